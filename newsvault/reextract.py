"""Re-extraction: run :func:`~pipeline.extract.extract_article` again over stored raw HTML.

After an upgrade of trafilatura or of our cleaning rules, every article can be extracted again
from the HTML archived at its last fetch, with no network request, on all cores. The stored page
is decoded as the crawl decoded it: the one decoder (:mod:`common.decode`) with the stored
Content-Type header, so a UTF-8 page served as ISO-8859-1 stays UTF-8.

Re-extraction never makes an article worse without a trace: every change of an article's
content (title, text, metadata) becomes the article's next revision, and the article, its text
hash and simhash follow it; a stale hash alone is repaired in place. A new text shorter than
half the stored one is not applied: the article keeps its text and a failure (kind
``reextract-shrank``) records why (see :meth:`~storage.articles.ArticleStore.save_reextracted`).
An article that no longer extracts (the new rules call it "not an article", or extraction
fails) is kept as it is and counted.

Example::

    result = reextract(archive, {"example-news": ExtractOptions()}, workers=4)
    print(result.changed, "of", result.examined, "articles changed,", result.revised, "revised")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from common.decode import decode_page
from pipeline.extract import ExtractOptions, extract_article
from pipeline.extract_worker import extraction_executor
from pipeline.records import article_record
from storage.articles import Reextracted
from storage.records import header_value
from storage.repository import Archive, ArticleRecord

__all__ = ["ReextractResult", "reextract"]


@dataclass(slots=True)
class ReextractResult:
    """Counts of a re-extraction. ``changed`` includes the ``revised`` articles (those whose
    title or text changed, kept as a new revision)."""

    examined: int = 0
    changed: int = 0
    revised: int = 0
    unchanged: int = 0
    failed: int = 0
    no_body: int = 0
    kept: int = 0  # the new text lost more than half of the old: not applied (a failure says so)


@dataclass(frozen=True, slots=True)
class _Job:
    """One stored page to extract again: its article (id, source, archive key) and its last
    fetch (URL, Content-Type, raw body)."""

    article_id: int
    source: str
    key: str
    url: str
    content_type: str | None
    body: bytes
    opts: ExtractOptions


def _work(job: _Job) -> tuple[int, ArticleRecord | str]:
    """Decode and extract one stored page in a worker, as the crawl did (the one decoder with
    the stored Content-Type, then the one article->record mapping); returns (article id,
    record or the error text)."""
    try:
        art = extract_article(decode_page(job.body, job.content_type), job.url, job.opts)
        return job.article_id, article_record(job.source, job.key, art)
    except Exception as exc:  # ExtractionError, or any bug: one bad page must not stop the others
        return job.article_id, f"{type(exc).__name__}: {exc}"


def reextract(
    archive: Archive,
    options: Mapping[str, ExtractOptions],
    sources: tuple[str, ...] = (),
    *,
    workers: int | None = None,
    batch: int = 200,
    on_progress: Callable[[ReextractResult], None] | None = None,
) -> ReextractResult:
    """Extract the selected articles again and update those that changed; see module doc.

    ``options`` gives each source's extraction options (a source not in it gets the defaults).
    ``on_progress`` is called with the counts so far after each ``batch`` of articles.
    Raises :class:`~common.errors.StorageError` when the archive cannot be read or written.
    """
    from storage.reading import iter_latest_bodies

    result = ReextractResult()
    workers = workers or os.cpu_count() or 1

    def jobs(rows: list[tuple[dict[str, Any], str, dict[str, Any], bytes | None]]) -> list[_Job]:
        out = []
        for art, url, headers, body in rows:
            if body is None:
                result.no_body += 1
                continue
            opts = options.get(art["source"], ExtractOptions())
            ctype = header_value(headers, "content-type")
            out.append(_Job(art["id"], art["source"], art["url"], url, ctype, body, opts))
        return out

    with extraction_executor(workers) as pool:
        rows: list[tuple[dict[str, Any], str, dict[str, Any], bytes | None]] = []
        for row in iter_latest_bodies(archive.engine, sources, batch=batch):
            rows.append(row)
            if len(rows) >= batch:
                _run_chunk(archive, pool, jobs(rows), result)
                rows = []
                if on_progress is not None:
                    on_progress(result)
        if rows:
            _run_chunk(archive, pool, jobs(rows), result)
            if on_progress is not None:
                on_progress(result)
    return result


def _run_chunk(
    archive: Archive, pool: ProcessPoolExecutor, work: list[_Job], result: ReextractResult
) -> None:
    records: list[tuple[int, ArticleRecord]] = []
    for article_id, rec in pool.map(_work, work, chunksize=8):
        result.examined += 1
        if isinstance(rec, str):
            result.failed += 1
        else:
            records.append((article_id, rec))
    for outcome in archive.save_reextracted(records):
        if outcome is Reextracted.KEPT:
            result.kept += 1
        elif outcome is Reextracted.UNCHANGED:
            result.unchanged += 1
        else:
            result.changed += 1
            if outcome is Reextracted.REVISED:
                result.revised += 1
