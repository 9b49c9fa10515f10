"""Item pipelines: Extract -> Dedupe -> Store.

- :class:`ExtractPipeline` turns a raw :class:`~crawler.items.ArticleItem` into an
  :class:`Extracted` (article text and metadata), in a pool of worker processes so extraction
  never blocks downloading. Pages that are not articles are dropped and counted as skipped.
- :class:`DedupePipeline` gives each article its archive key (canonical URL) and a fingerprint
  of its normalised text, and drops what this run has already seen.
- :class:`StorePipeline` owns the archive for the run: it records the run, saves each article in
  one transaction, records failures, and closes the run with its counts and status.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import re
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, FailureItem
from pipeline.config import Source
from pipeline.errors import ExtractionError, NotAnArticle, StorageError
from pipeline.extract import Article, ExtractOptions, extract_article
from pipeline.urls import prefer_canonical

__all__ = [
    "DedupePipeline",
    "ExtractPipeline",
    "Extracted",
    "StorePipeline",
    "extract_options",
    "text_fingerprint",
]

log = logging.getLogger(__name__)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(slots=True)
class Extracted:
    """A fetched page with its extracted article; ``key`` and ``fingerprint`` come from Dedupe."""

    page: ArticleItem
    article: Article
    key: str = ""
    fingerprint: str = ""


def extract_options(source: Source) -> ExtractOptions:
    c = source.clean
    return ExtractOptions(drop_xpaths=c.drop_xpaths, drop_css=c.drop_css, drop_lines=c.drop_lines)


def text_fingerprint(text: str) -> str:
    """sha256 of the text with case, punctuation and white space folded away."""
    norm = _NON_WORD.sub(" ", text.casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def _decode(page: ArticleItem) -> str:
    try:
        return page.html.decode(page.encoding or "utf-8", errors="replace")
    except LookupError:
        return page.html.decode("utf-8", errors="replace")


def _skip(stats: Any, why: str) -> DropItem:
    stats.inc_value("newsvault/articles_skipped")
    return DropItem(why, log_level="DEBUG")


class ExtractPipeline:
    """Extracts in ``workers`` processes; a page that takes longer than ``timeout`` seconds fails
    alone (an "extraction" failure) and its stuck worker is killed and replaced."""

    def __init__(
        self, workers: int, stats: Any, crawler: Crawler | None = None, timeout: float = 0
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self.stats = stats
        self.crawler = crawler
        self.opts = ExtractOptions()
        self.pool: Executor | None = None
        self._busy: asyncio.Semaphore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        s = crawler.settings
        return cls(
            s.getint("NEWSVAULT_EXTRACT_WORKERS"),
            crawler.stats,
            crawler,
            timeout=s.getfloat("NEWSVAULT_EXTRACT_TIMEOUT"),
        )

    def open_spider(self) -> None:
        spider = self.crawler.spider if self.crawler else None
        source = getattr(spider, "source", None)
        if isinstance(source, Source):
            self.opts = extract_options(source)
        if self.workers > 0:
            self.pool = self._new_pool()

    def _new_pool(self) -> Executor:
        ctx = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(self.workers, mp_context=ctx)

    def _replace_pool(self, broken: Executor) -> None:
        """Kill ``broken``'s workers (one may be stuck in a page) and start a fresh pool."""
        if self.pool is not broken:
            return  # another page already replaced it
        self.stats.inc_value("newsvault/extract_pool_restarts")
        for proc in list(getattr(broken, "_processes", {}).values()):
            proc.kill()
        broken.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def _extract(self, html: str, url: str) -> Article:
        if self.pool is None:
            return extract_article(html, url, self.opts)
        # At most one page per worker is handed to the pool, so the time limit measures the
        # page's own extraction, not its wait in the pool's queue.
        if self._busy is None:
            self._busy = asyncio.Semaphore(self.workers)
        async with self._busy:
            return await self._extract_in_pool(html, url)

    async def _extract_in_pool(self, html: str, url: str) -> Article:
        for attempt in (1, 2):
            pool = self.pool
            assert pool is not None
            future = pool.submit(extract_article, html, url, self.opts)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout or None)
            except TimeoutError:
                self._replace_pool(pool)
                raise ExtractionError(
                    f"extraction took longer than {self.timeout:g} s (crawl.extract_timeout); "
                    "abandoned"
                ) from None
            except BrokenProcessPool:
                # Killed under us (another page timed out) or a worker died: try once more on
                # a fresh pool; a page that breaks a second pool too fails alone.
                self._replace_pool(pool)
                if attempt == 2:
                    raise ExtractionError("the extraction worker died on this page") from None
        raise AssertionError("unreachable")

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        try:
            article = await self._extract(_decode(item), item.url)
        except NotAnArticle as exc:
            raise _skip(self.stats, f"not an article: {item.url}: {exc}") from None
        except ExtractionError as exc:
            return FailureItem(item.url, item.source, "extraction", str(exc), item.status)
        except Exception as exc:  # a worker died or the pool broke: this page alone fails
            return FailureItem(
                item.url, item.source, "extraction", f"{type(exc).__name__}: {exc}", item.status
            )
        return Extracted(page=item, article=article)


class DedupePipeline:
    """Drops an article this run has already seen under the same key or the same text."""

    def __init__(self, stats: Any, crawler: Crawler | None = None) -> None:
        self.stats = stats
        self.crawler = crawler
        self.domains: tuple[str, ...] = ()
        self._keys: set[bytes] = set()
        self._texts: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler.stats, crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider if self.crawler else None
        self.domains = tuple(getattr(spider, "allowed_domains", None) or ())

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Extracted):
            return item
        item.key = prefer_canonical(item.page.url, item.article.canonical_url, self.domains)
        item.fingerprint = text_fingerprint(item.article.text)
        key = hashlib.blake2b(item.key.encode(), digest_size=16).digest()
        fp = bytes.fromhex(item.fingerprint)[:16]
        if key in self._keys:
            raise _skip(self.stats, f"already archived in this run: {item.key}")
        if fp in self._texts:
            raise _skip(self.stats, f"same text as another page in this run: {item.page.url}")
        self._keys.add(key)
        self._texts.add(fp)
        return item


class StorePipeline:
    """Writes articles and failures to the archive and records the run."""

    def __init__(self, database: str, trigger: str, stats: Any, crawler: Crawler | None = None):
        self.database = database
        self.trigger = trigger
        self.stats = stats
        self.crawler = crawler
        self.archive: Any = None
        self.run_id: int | None = None
        self.source = "?"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        pipe = cls(s.get("NEWSVAULT_DATABASE"), s.get("NEWSVAULT_TRIGGER"), crawler.stats, crawler)
        # The run is closed on spider_closed, the one place that knows why the spider stopped.
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        import os

        from storage.repository import Archive

        spider = self.crawler.spider if self.crawler else None
        source = getattr(spider, "source", None)
        self.source = source.name if isinstance(source, Source) else "?"
        self.archive = Archive.open(self.database)
        stale = self.archive.close_stale_runs(self.source)
        if stale:
            log.warning("%s: %d earlier run(s) were interrupted (killed)", self.source, stale)
        self.run_id = self.archive.start_run(self.source, self.trigger, pid=os.getpid())
        self.stats.set_value("newsvault/run_id", self.run_id)

    def _fatal(self, exc: StorageError) -> None:
        if self.stats.get_value("newsvault/fatal"):
            return  # already stopping
        log.error("archive write failed, stopping the run: %s", exc)
        self.stats.set_value("newsvault/fatal", str(exc))
        if self.crawler is not None and self.crawler.engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage-error"))

    def process_item(self, item: Any) -> Any:
        from storage.repository import ArticleRecord, FetchRecord

        try:
            if isinstance(item, FailureItem):
                self.stats.inc_value("newsvault/errors")
                self.archive.record_failure(
                    self.run_id,
                    item.source,
                    item.url,
                    item.kind,
                    item.reason,
                    item.status,
                    retry_after=item.retry_after,
                )
                return item
            if not isinstance(item, Extracted):
                return item
            a, page = item.article, item.page
            record = ArticleRecord(
                source=page.source,
                url=item.key,
                text=a.text,
                text_hash=item.fingerprint,
                title=a.title,
                authors=a.authors,
                published_at=a.published_at,
                modified_at=a.modified_at,
                language=a.language,
                site_name=a.site_name,
                description=a.description,
                tags=a.tags,
                image_url=a.image_url,
            )
            fetch = FetchRecord(
                url=page.url,
                fetched_at=page.fetched_at,
                status=page.status,
                body=page.html,
                headers=page.headers,
            )
            outcome = self.archive.save_article(self.run_id, record, fetch)
        except StorageError as exc:
            self._fatal(exc)
            raise DropItem(f"not stored: {exc}", log_level="DEBUG") from None
        name = "articles_skipped" if outcome.value == "duplicate" else f"articles_{outcome.value}"
        self.stats.inc_value(f"newsvault/{name}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        from crawler.extensions import progress_counts

        if self.archive is None or self.run_id is None:
            return
        counts = progress_counts(self.stats)
        fatal = self.stats.get_value("newsvault/fatal")
        stored = counts["articles_new"] + counts["articles_updated"] + counts["articles_unchanged"]
        if fatal:
            status = "failed"
        elif reason in ("shutdown", "cancelled"):
            status = "stopped"
        elif counts["errors"] and not stored and not counts["articles_skipped"]:
            status = "failed"
        elif counts["errors"]:
            status = "partial"
        else:
            status = "ok"
        self.stats.set_value("newsvault/status", status)
        try:
            self.archive.finish_run(self.run_id, status, counts, message=fatal)
        except StorageError as exc:
            log.error("could not record the end of run %s: %s", self.run_id, exc)
        self.archive.close()
