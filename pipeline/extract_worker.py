"""What an extraction worker process does with one fetched page.

:func:`extract_page` runs in a worker of :class:`~pipeline.pipelines.ExtractPipeline`'s process
pool (or in the crawling process when the pool is off). It takes the raw bytes as fetched (bytes
pickle cheaply; decoding happens here, off the crawling process) and returns a compact
:class:`PageResult`: the article, the fingerprint of its text, and the body already hashed and
compressed as the archive stores it, so the crawling process spends its time fetching and
writing, not on CPU-heavy work.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import MutableSequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from common.decode import decode_page
from common.fingerprint import text_hashes
from common.procs import die_with_parent
from pipeline.extract import Article, ExtractOptions, extract_article
from storage.bodies import pack_body

__all__ = [
    "PRELOAD",
    "PageResult",
    "extract_page",
    "extract_timed",
    "extraction_executor",
    "init_worker",
    "warm_up",
]

# Modules a forkserver imports once, so that every worker it forks starts warm; the last one
# extracts a page and freezes the heap (see pipeline/prefork.py).
PRELOAD = ["pipeline.extract_worker", "trafilatura", "lxml.html", "pipeline.prefork"]


@dataclass(frozen=True, slots=True)
class PageResult:
    """An extracted page: the article, its text fingerprint and simhash (None for short texts),
    and its body's sha256 and zlib form."""

    article: Article
    fingerprint: str
    body_sha256: str
    body_z: bytes
    simhash: int | None = None


def extract_page(body: bytes, encoding: str | None, url: str, opts: ExtractOptions) -> PageResult:
    """Extract one page, decoded with ``encoding`` (the codec the spider named with
    :func:`common.decode.page_encoding`; None: found here the same way). Raises NotAnArticle or
    ExtractionError as :func:`extract_article` does."""
    article = extract_article(decode_page(body, encoding=encoding), url, opts)
    digest, zdata = pack_body(body)
    fingerprint, sim = text_hashes(article.text)
    return PageResult(article, fingerprint, digest, zdata, sim)


# Per in-flight page slot: when a worker started it (time.monotonic(), system-wide on Linux), or
# 0.0. Shared with the crawling process, which measures a page's time limit from its start, not
# from when it was queued (see ExtractPipeline).
_STARTS: MutableSequence[float] | None = None


def _preload() -> list[str]:
    """Modules the forkserver imports once for all workers: the extraction modules, and the
    main module's. (Every worker runs the main module again, ``-m newsvault`` included; with
    its imports already loaded that costs nothing, otherwise each worker imports the CLI's.)"""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    main = [spec.name] if spec is not None and spec.name else []
    return ["__main__", *main, *PRELOAD]


def extraction_executor(
    workers: int, starts: MutableSequence[float] | None = None
) -> ProcessPoolExecutor:
    """The one way to start extraction processes (a crawl's pool, ``reextract``'s): forked warm
    from a forkserver that dies with its parent, each worker dying with the forkserver, so a
    SIGKILLed parent leaves no process behind. ``starts`` is the pool's shared start-time array
    (:func:`extract_timed`), if it has one."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_preload())  # workers fork warm: imports done once
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker, initargs=(starts,))


def init_worker(starts: MutableSequence[float] | None) -> None:
    """Pool initializer: die with the forkserver (which dies with the crawl), keep the shared
    start-time array."""
    global _STARTS
    die_with_parent()
    _STARTS = starts


def extract_timed(
    slot: int, body: bytes, encoding: str | None, url: str, opts: ExtractOptions
) -> PageResult:
    """:func:`extract_page`, recording its start in slot ``slot`` of the shared array."""
    starts = _STARTS
    if starts is not None:
        starts[slot] = time.monotonic()
    try:
        return extract_page(body, encoding, url, opts)
    finally:
        if starts is not None:
            starts[slot] = 0.0


_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up | Site</title>"
    "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Warm-up\"}"
    "</script></head><body><nav class='menu'><a href='/'>Home</a></nav><article><h1>Warm-up</h1>"
    + "".join(
        f"<p>Paragraph {i} of a page that loads what the first real page would load, so that "
        "workers forked after it start with it loaded.</p>"
        for i in range(6)
    )
    + "</article><div class='comments'><form><textarea></textarea></form></div></body></html>"
).encode()


def warm_up() -> None:
    """Extract one built-in page, loading what extraction loads lazily. Never raises."""
    try:
        extract_page(_WARM_UP_PAGE, "utf-8", "http://warm-up.invalid/news/1", ExtractOptions())
    except Exception:  # noqa: S110 - a warm-up that fails only costs the first page its speed
        pass
