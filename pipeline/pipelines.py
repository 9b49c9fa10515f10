"""Item pipelines: Extract -> Dedupe -> Store.

- :class:`ExtractPipeline` turns a raw :class:`~crawler.items.ArticleItem` into an
  :class:`Extracted` (article text and metadata), in a pool of worker processes so extraction
  never blocks downloading. Pages that are not articles are dropped and counted as skipped.
- :class:`DedupePipeline` gives each article its archive key (canonical URL) and a fingerprint
  of its normalised text (:mod:`pipeline.fingerprint`), and drops keys this run has already seen.
- :class:`StorePipeline` owns the archive for the run: it records the run, saves each article in
  one transaction (new, a new revision, unchanged, or an alias of another), records 304s,
  aliases and failures, and closes the run with its counts and status.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import AliasItem, ArticleItem, FailureItem, NotModifiedItem
from pipeline.config import Source
from pipeline.errors import ExtractionError, NotAnArticle, StorageError
from pipeline.extract import Article, ExtractOptions, extract_article
from pipeline.fingerprint import simhash, text_fingerprint
from pipeline.urls import canonical_url, prefer_canonical

__all__ = [
    "DedupePipeline",
    "ExtractPipeline",
    "Extracted",
    "StorePipeline",
    "extract_options",
    "text_fingerprint",
]

log = logging.getLogger(__name__)


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
    """Drops an article this run has already seen under the same key. A page with the same text
    under another key goes on to the store, which records it as an alias of the first."""

    def __init__(self, stats: Any, crawler: Crawler | None = None) -> None:
        self.stats = stats
        self.crawler = crawler
        self.domains: tuple[str, ...] = ()
        self._keys: set[bytes] = set()

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
        if key in self._keys:
            fetched = canonical_url(item.page.url)
            if fetched != item.key:  # another URL declaring an article of this run canonical
                self.stats.inc_value("newsvault/articles_skipped")
                return AliasItem(fetched, item.key, item.page.source, "canonical")
            raise _skip(self.stats, f"already archived in this run: {item.key}")
        self._keys.add(key)
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
        self.near_duplicate_distance: int | None = 3
        self._pending_aliases: list[AliasItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        pipe = cls(s.get("NEWSVAULT_DATABASE"), s.get("NEWSVAULT_TRIGGER"), crawler.stats, crawler)
        distance = s.get("NEWSVAULT_NEAR_DUPLICATE_DISTANCE")
        pipe.near_duplicate_distance = None if distance is None else int(distance)
        # The run is closed on spider_closed, the one place that knows why the spider stopped.
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipe.spider_error, signal=signals.spider_error)
        return pipe

    def open_spider(self) -> None:
        import os

        from storage.repository import Archive

        spider = self.crawler.spider if self.crawler else None
        source = getattr(spider, "source", None)
        self.source = source.name if isinstance(source, Source) else "?"
        self.archive = Archive.open(
            self.database, near_duplicate_distance=self.near_duplicate_distance
        )
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

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        """A bug or an unexpected page broke a spider callback: record it, never lose it."""
        if self.archive is None:
            return
        self.stats.inc_value("newsvault/errors")
        exc = failure.value
        reason = f"{type(exc).__name__} while reading the page: {exc}"
        try:
            self.archive.record_failure(
                self.run_id, self.source, response.url, "spider", reason, response.status
            )
        except StorageError as err:
            self._fatal(err)

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
            if isinstance(item, NotModifiedItem):
                touched = self.archive.touch(item.url, item.fetched_at, item.lastmod)
                name = "articles_unchanged" if touched else "articles_skipped"
                self.stats.inc_value(f"newsvault/{name}")
                return item
            if isinstance(item, AliasItem):
                if self.archive.record_alias(item.url, item.target, item.reason) is None:
                    self._pending_aliases.append(item)  # its article is not stored yet
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
                simhash=simhash(a.text),
            )
            fetch = FetchRecord(
                url=page.url,
                fetched_at=page.fetched_at,
                status=page.status,
                body=page.html,
                headers=page.headers,
                lastmod=page.lastmod,
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
        try:
            for alias in self._pending_aliases:
                self.archive.record_alias(alias.url, alias.target, alias.reason)
        except StorageError as exc:
            log.error("could not record the aliases of run %s: %s", self.run_id, exc)
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
