"""Re-extraction: run :func:`~pipeline.extract.extract_article` again over stored raw HTML.

After an upgrade of trafilatura or of our cleaning rules, every article can be extracted again
from the HTML archived at its last fetch, with no network request, on all cores. The stored page
is decoded as the crawl decoded it: the one decoder (:mod:`common.decode`) with the stored
Content-Type header, so a UTF-8 page served as ISO-8859-1 stays UTF-8. Articles whose
text or metadata come out different are updated in place; an article that no longer extracts
(the new rules call it "not an article", or extraction fails) is kept as it is and counted.

Example::

    result = reextract(archive, {"example-news": ExtractOptions()}, workers=4)
    print(result.changed, "of", result.examined, "articles changed")
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from common.decode import decode_page
from common.errors import ExtractionError
from pipeline.extract import ExtractOptions, extract_article
from pipeline.records import article_record
from storage.repository import Archive, ArticleRecord

__all__ = ["ReextractResult", "reextract"]

_FIELDS = (
    "title",
    "authors",
    "published_at",
    "modified_at",
    "language",
    "site_name",
    "description",
    "tags",
    "image_url",
    "text",
)


@dataclass(slots=True)
class ReextractResult:
    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    no_body: int = 0


def _content_type(headers: Mapping[str, Any]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value)
    return None


def _work(job: tuple[int, bytes, str | None, str, ExtractOptions]) -> tuple[int, Any]:
    """Decode and extract one stored page in a worker, as the crawl did (the one decoder, with
    the stored Content-Type); returns (article id, Article or the error text)."""
    article_id, body, content_type, url, opts = job
    try:
        return article_id, extract_article(decode_page(body, content_type), url, opts)
    except ExtractionError as exc:
        return article_id, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # one bad page must not stop the others
        return article_id, f"{type(exc).__name__}: {exc}"


def _differs(stored: Mapping[str, Any], rec: ArticleRecord) -> bool:
    for name in _FIELDS:
        old, new = stored.get(name), getattr(rec, name)
        if isinstance(new, tuple):
            new, old = list(new), list(old or [])
        if old != new:
            return True
    return False


def reextract(
    archive: Archive,
    options: Mapping[str, ExtractOptions],
    sources: tuple[str, ...] = (),
    *,
    workers: int | None = None,
    batch: int = 200,
) -> ReextractResult:
    """Extract the selected articles again and update those that changed; see module doc.

    ``options`` gives each source's extraction options (a source not in it gets the defaults).
    Raises :class:`~common.errors.StorageError` when the archive cannot be read or written.
    """
    from storage.reading import iter_latest_bodies

    result = ReextractResult()
    workers = workers or os.cpu_count() or 1
    ctx = multiprocessing.get_context("forkserver")

    def jobs(
        rows: list[tuple[dict[str, Any], str, dict[str, Any], bytes | None]],
    ) -> Iterator[tuple[int, bytes, str | None, str, ExtractOptions]]:
        for art, url, headers, body in rows:
            if body is None:
                result.no_body += 1
                continue
            opts = options.get(art["source"], ExtractOptions())
            yield art["id"], body, _content_type(headers), url, opts

    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        rows: list[tuple[dict[str, Any], str, dict[str, Any], bytes | None]] = []
        for row in iter_latest_bodies(archive.engine, sources, batch=batch):
            rows.append(row)
            if len(rows) >= batch:
                _run_chunk(archive, pool, [r[0] for r in rows], jobs(rows), result)
                rows = []
        if rows:
            _run_chunk(archive, pool, [r[0] for r in rows], jobs(rows), result)
    return result


def _run_chunk(
    archive: Archive,
    pool: ProcessPoolExecutor,
    chunk: list[dict[str, Any]],
    work: Iterator[tuple[int, bytes, str | None, str, ExtractOptions]],
    result: ReextractResult,
) -> None:
    by_id = {a["id"]: a for a in chunk}
    changes: list[tuple[int, ArticleRecord]] = []
    for article_id, art in pool.map(_work, work, chunksize=8):
        result.examined += 1
        if isinstance(art, str):
            result.failed += 1
            continue
        stored = by_id[article_id]
        rec = article_record(stored["source"], stored["url"], art)
        if _differs(by_id[article_id], rec):
            changes.append((article_id, rec))
        else:
            result.unchanged += 1
    if changes:
        result.changed += archive.update_extraction(changes)
