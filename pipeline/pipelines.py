"""Item pipelines: Extract -> Dedupe -> Store.

- :class:`ExtractPipeline` turns a raw :class:`~crawler.items.ArticleItem` into an
  :class:`Extracted` (article text and metadata), in a pool of worker processes so extraction
  never blocks downloading; one pool per crawl process, shared by all its sources. Pages that are
  not articles are dropped and counted as skipped.
- :class:`DedupePipeline` gives each article its archive key (canonical URL) and a fingerprint
  of its normalised text (:mod:`common.fingerprint`), and drops keys this run has already seen.
- :class:`StorePipeline` writes through the crawl process's archive (one for all its sources,
  like the extraction pool): it records the source's run, saves articles in
  short transactions of up to ``NEWSVAULT_STORE_BATCH`` articles (flushed by count, by time and
  at the end; each article new, a new revision, unchanged, or an alias of another), records
  304s, aliases and failures, and closes the run with its counts and status.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import time
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from twisted.internet import task

from common.config import Source
from common.errors import ExtractionError, NotAnArticle, StorageError
from common.fingerprint import text_fingerprint
from common.runs import cap_message, count, count_outcome, counts_from_stats, run_status
from common.urls import canonical_url, prefer_canonical
from crawler.items import NOT_ARTICLE, AliasItem, ArticleItem, FailureItem, NotModifiedItem
from pipeline.extract import Article, ExtractOptions
from pipeline.extract_worker import PageResult, extract_page, extract_timed, extraction_executor
from pipeline.records import article_record
from pipeline.render import RenderItem, render_mode

__all__ = [
    "DedupePipeline",
    "ExtractPipeline",
    "ExtractionPool",
    "Extracted",
    "StorePipeline",
    "extract_options",
    "text_fingerprint",
]

log = logging.getLogger(__name__)

#: pages handed to each extraction worker at once: one in work, one waiting, so a worker never
#: idles while the crawling process is busy
PAGES_PER_WORKER = 2


@dataclass(slots=True)
class Extracted:
    """A fetched page with its extracted article. ``key`` comes from Dedupe; ``fingerprint``
    and ``packed_body`` (the page's sha256 and zlib form) from the extraction worker, and Dedupe
    computes the fingerprint when it is missing."""

    page: ArticleItem
    article: Article
    key: str = ""
    fingerprint: str = ""
    packed_body: tuple[str, bytes] | None = None
    simhash: int | None = None
    has_simhash: bool = False
    rendered: bytes | None = None  # the DOM the article was extracted from, if rendered


def extract_options(source: Source) -> ExtractOptions:
    c = source.clean
    return ExtractOptions(drop_xpaths=c.drop_xpaths, drop_css=c.drop_css, drop_lines=c.drop_lines)


def _skip(stats: Any, why: str) -> DropItem:
    count(stats, "articles_skipped")
    return DropItem(why, log_level="DEBUG")


class ExtractionPool:
    """The crawl process's extraction workers, shared by the ExtractPipeline of every source.

    One pool per crawling process, opened by the first source's pipeline and shut down when the
    last one closes (:func:`acquire_pool` / :meth:`release`): twelve sources cost one forkserver
    and ``workers`` workers, not twelve pools. Each worker has up to :data:`PAGES_PER_WORKER`
    pages handed to it, so that it never waits for the crawling process between pages. A page
    that takes longer than ``timeout`` seconds fails alone (an "extraction" failure) and the
    pool is replaced; pages of any source queued behind it are tried once more on the fresh one.
    The time limit measures a page's own extraction: the worker records when it starts a page
    in a shared array, and the limit counts from there, not from when the page was queued."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.users = 0
        self.restarts = 0
        self._slots = max(0, workers) * PAGES_PER_WORKER
        self._free_slots = list(range(self._slots))
        self._busy: asyncio.Semaphore | None = None
        self._starts: Any = None  # the pool's shared start-time array
        # started on first use: a crawl that extracts nothing (all pages known) starts no
        # process at all (the executor starts multiprocessing's resource tracker at once)
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self._new_executor()
        return self._executor

    def _new_executor(self) -> Executor:
        self._starts = multiprocessing.get_context("forkserver").RawArray("d", self._slots)
        return extraction_executor(self.workers, self._starts)

    def _replace(self, broken: Executor) -> bool:
        """Kill ``broken``'s workers (one may be stuck in a page) and start a fresh pool.
        False when another page already replaced it."""
        if self._executor is not broken:
            return False
        self.restarts += 1
        for proc in list(getattr(broken, "_processes", {}).values()):
            proc.kill()
        broken.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()
        return True

    def release(self) -> None:
        """One user fewer; the last one shuts the workers down."""
        global _SHARED_POOL
        self.users -= 1
        if self.users > 0:
            return
        if _SHARED_POOL is self:
            _SHARED_POOL = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    async def extract(
        self, page: ArticleItem, opts: ExtractOptions, timeout: float, stats: Any
    ) -> PageResult:
        if self._busy is None:
            self._busy = asyncio.Semaphore(self._slots)
        async with self._busy:
            slot = self._free_slots.pop()
            try:
                return await self._extract_in_slot(page, opts, timeout, stats, slot)
            finally:
                self._free_slots.append(slot)

    async def _extract_in_slot(
        self, page: ArticleItem, opts: ExtractOptions, timeout: float, stats: Any, slot: int
    ) -> PageResult:
        # Raw bytes go to the worker (cheaper to pickle than str); decoding happens there.
        for attempt in (1, 2):
            executor, starts = self.executor, self._starts
            future = executor.submit(extract_timed, slot, page.html, page.encoding, page.url, opts)
            try:
                return await within_limit(asyncio.wrap_future(future), starts, slot, timeout)
            except TimeoutError:
                future.cancel()
                if self._replace(executor):
                    stats.inc_value("newsvault/extract_pool_restarts")
                raise ExtractionError(
                    f"extraction took longer than {timeout:g} s (crawl.extract_timeout); "
                    "abandoned"
                ) from None
            except BrokenProcessPool:
                # Killed under us (another page timed out) or a worker died: try once more on
                # a fresh pool; a page that breaks a second pool too fails alone.
                if self._replace(executor):
                    stats.inc_value("newsvault/extract_pool_restarts")
                if attempt == 2:
                    raise ExtractionError("the extraction worker died on this page") from None
        raise AssertionError("unreachable")


_SHARED_POOL: ExtractionPool | None = None


def acquire_pool(workers: int) -> ExtractionPool:
    """The crawl process's extraction pool (started with ``workers`` workers if there is none
    yet); call :meth:`ExtractionPool.release` when done with it."""
    global _SHARED_POOL
    if _SHARED_POOL is None:
        _SHARED_POOL = ExtractionPool(workers)
    _SHARED_POOL.users += 1
    return _SHARED_POOL


async def within_limit(
    result: asyncio.Future[PageResult], starts: Any, slot: int, timeout: float
) -> PageResult:
    """``result``'s value; TimeoutError once its page has run ``timeout`` seconds in a worker
    (time spent queued does not count; 0: no limit)."""
    while timeout:
        started = starts[slot]
        ran = time.monotonic() - started if started else 0.0
        done, _ = await asyncio.wait({result}, timeout=max(timeout - ran, 0.01))
        if done:
            break
        started = starts[slot]
        if started and time.monotonic() - started >= timeout:
            # its exception (the pool is killed next) is nobody's to read
            result.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise TimeoutError
    return await result


class ExtractPipeline:
    """Extracts each page in the crawl process's shared :class:`ExtractionPool` of ``workers``
    processes (``workers`` 0: in the crawling process itself, without a time limit), with the
    source's own cleaning options."""

    def __init__(
        self, workers: int, stats: Any, crawler: Crawler | None = None, timeout: float = 0
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self.stats = stats
        self.crawler = crawler
        self.opts = ExtractOptions()
        self.render = "never"  # the source's render: setting, as it can be honoured here
        self.shared: ExtractionPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        s = crawler.settings
        return cls(
            s.getint("NEWSVAULT_EXTRACT_WORKERS"),
            crawler.stats,
            crawler,
            timeout=s.getfloat("NEWSVAULT_EXTRACT_TIMEOUT"),
        )

    @property
    def pool(self) -> Executor | None:
        """The worker processes' executor in use now (None: extraction runs in this process)."""
        return self.shared.executor if self.shared is not None else None

    def open_spider(self) -> None:
        spider = self.crawler.spider if self.crawler else None
        source = getattr(spider, "source", None)
        if isinstance(source, Source):
            self.opts = extract_options(source)
            chromium = self.crawler.settings.get("NEWSVAULT_CHROMIUM") if self.crawler else ""
            self.render = render_mode(source, chromium or "")
        if self.workers > 0 and self.shared is None:
            self.shared = acquire_pool(self.workers)

    def close_spider(self) -> None:
        if self.shared is not None:
            self.shared.release()
            self.shared = None

    async def _extract(self, page: ArticleItem) -> PageResult:
        if self.shared is None:
            return extract_page(page.html, page.encoding, page.url, self.opts)
        return await self.shared.extract(page, self.opts, self.timeout, self.stats)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        if self.render == "always":
            return RenderItem(item, self.opts)  # pipeline.render renders and extracts it
        try:
            result = await self._extract(item)
        except NotAnArticle as exc:  # recorded (kind "not-article"), counted as skipped
            if self.render == "auto":
                return RenderItem(item, self.opts, str(exc))
            return FailureItem(item.url, item.source, NOT_ARTICLE, str(exc), item.status)
        except ExtractionError as exc:
            return FailureItem(item.url, item.source, "extraction", str(exc), item.status)
        except Exception as exc:  # a worker died or the pool broke: this page alone fails
            return FailureItem(
                item.url, item.source, "extraction", f"{type(exc).__name__}: {exc}", item.status
            )
        return Extracted(
            page=item,
            article=result.article,
            fingerprint=result.fingerprint,
            packed_body=(result.body_sha256, result.body_z),
            simhash=result.simhash,
            has_simhash=True,
        )


class DedupePipeline:
    """Drops an article this run has already seen under the same key. A page with the same text
    under another key goes on to the store, which records it as an alias of the first."""

    def __init__(self, stats: Any, crawler: Crawler | None = None) -> None:
        self.stats = stats
        self.crawler = crawler
        self.domains: tuple[str, ...] = ()
        self._keys: dict[bytes, str] = {}  # key digest -> text fingerprint

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
        item.fingerprint = item.fingerprint or text_fingerprint(item.article.text)
        key = hashlib.blake2b(item.key.encode(), digest_size=16).digest()
        seen = self._keys.get(key)
        if seen is not None and seen == item.fingerprint:
            fetched = canonical_url(item.page.url)
            if fetched != item.key:  # another URL declaring an article of this run canonical
                count(self.stats, "articles_skipped")
                return AliasItem(fetched, item.key, item.page.source, "canonical")
            raise _skip(self.stats, f"already archived in this run: {item.key}")
        # another text under a key of this run: the store decides (canonical-takeover rule)
        self._keys.setdefault(key, item.fingerprint)
        return item


# The archive of the crawl process, shared by every source's StorePipeline (all of them write on
# the reactor thread, one call at a time): one engine and connection, not one per source.
_ARCHIVES: dict[tuple[str, int | None], tuple[Any, int]] = {}


def _open_shared_archive(database: str, distance: int | None) -> Any:
    from storage.repository import Archive

    archive, users = _ARCHIVES.get((database, distance), (None, 0))
    if archive is None:
        archive = Archive.open(database, near_duplicate_distance=distance)
    _ARCHIVES[(database, distance)] = (archive, users + 1)
    return archive


def _close_shared_archive(archive: Any) -> None:
    """One source done with ``archive``; the last one closes it."""
    for key, (shared, users) in list(_ARCHIVES.items()):
        if shared is archive:
            if users > 1:
                _ARCHIVES[key] = (shared, users - 1)
                return
            del _ARCHIVES[key]
    archive.close()


class StorePipeline:
    """Writes articles (in batches) and failures to the archive and records the run."""

    def __init__(
        self,
        database: str,
        trigger: str,
        stats: Any,
        crawler: Crawler | None = None,
        *,
        batch_size: int = 1,
        flush_seconds: float = 0.0,
    ) -> None:
        self.database = database
        self.trigger = trigger
        self.stats = stats
        self.crawler = crawler
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.archive: Any = None
        self.run_id: int | None = None
        self.source = "?"
        self.near_duplicate_distance: int | None = 3
        self._pending_aliases: list[AliasItem] = []
        self.writer: Any = None
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        pipe = cls(
            s.get("NEWSVAULT_DATABASE"),
            s.get("NEWSVAULT_TRIGGER"),
            crawler.stats,
            crawler,
            batch_size=s.getint("NEWSVAULT_STORE_BATCH"),
            flush_seconds=s.getfloat("NEWSVAULT_STORE_FLUSH_SECONDS"),
        )
        distance = s.get("NEWSVAULT_NEAR_DUPLICATE_DISTANCE")
        pipe.near_duplicate_distance = None if distance is None else int(distance)
        # The run is closed on spider_closed, the one place that knows why the spider stopped.
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipe.spider_error, signal=signals.spider_error)
        return pipe

    def open_spider(self) -> None:
        import os

        from pipeline.batch import BatchWriter

        spider = self.crawler.spider if self.crawler else None
        source = getattr(spider, "source", None)
        self.source = source.name if isinstance(source, Source) else "?"
        self.archive = _open_shared_archive(self.database, self.near_duplicate_distance)
        stale = self.archive.close_stale_runs(self.source)
        if stale:
            log.warning("%s: %d earlier run(s) were interrupted (killed)", self.source, stale)
        self.run_id = self.archive.start_run(self.source, self.trigger, pid=os.getpid())
        self.stats.set_value("newsvault/run_id", self.run_id)
        self.writer = BatchWriter(
            self.archive,
            self.run_id,
            size=self.batch_size,
            max_age=self.flush_seconds,
            on_outcome=self._count,
            on_error=self._not_stored,
        )
        if self.flush_seconds > 0:
            self._timer = task.LoopingCall(self.flush_if_due)
            self._timer.start(self.flush_seconds / 2, now=False)

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self.writer is not None and not self.stats.get_value("newsvault/fatal"):
            self.writer.flush()

    def flush_if_due(self) -> None:
        if self.writer.due():
            self.writer.flush()

    def _count(self, outcome: Any) -> None:
        count_outcome(self.stats, outcome.value)

    def _not_stored(self, record: Any, fetch: Any, exc: StorageError) -> bool:
        """One article could not be written even alone: record why, and go on if we can."""
        count(self.stats, "errors")
        try:
            self.archive.record_failure(
                self.run_id, record.source, fetch.url, "storage", f"not stored: {exc}", fetch.status
            )
        except StorageError as again:
            self._fatal(again)
            return False
        return True

    def _fatal(self, exc: StorageError) -> None:
        if self.stats.get_value("newsvault/fatal"):
            return  # already stopping
        # the crawl's one-line message says it (the run's message too): no second line here
        log.info("archive write failed, stopping the run: %s", exc)
        self.stats.set_value("newsvault/fatal", str(exc))
        if self.crawler is not None and self.crawler.engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            closing = deferred_from_coro(
                self.crawler.engine.close_spider_async(reason="storage-error")
            )
            # the spider may be closing already (the disk filled during its last flush)
            closing.addErrback(lambda f: log.debug("closing the spider: %s", f.value))

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        """A bug or an unexpected page broke a spider callback: record it, never lose it."""
        if self.archive is None:
            return
        count(self.stats, "errors")
        exc = failure.value
        reason = f"{type(exc).__name__} while reading the page: {exc}"
        try:
            self.archive.record_failure(
                self.run_id, self.source, response.url, "spider", reason, response.status
            )
        except StorageError as err:
            self._fatal(err)

    def process_item(self, item: Any) -> Any:
        from storage.bodies import PackedBody
        from storage.repository import FetchRecord

        if isinstance(item, FailureItem):
            count(self.stats, "articles_skipped" if item.kind == NOT_ARTICLE else "errors")
            try:
                self.archive.record_failure(
                    self.run_id,
                    item.source,
                    item.url,
                    item.kind,
                    item.reason,
                    item.status,
                    retry_after=item.retry_after,
                )
            except StorageError as exc:
                self._fatal(exc)
                raise DropItem(f"not recorded: {exc}", log_level="DEBUG") from None
            return item
        try:
            if isinstance(item, NotModifiedItem):
                touched = self.archive.touch(item.url, item.fetched_at, item.lastmod)
                if touched:
                    count_outcome(self.stats, "unchanged")
                else:  # no article is stored under that URL
                    count(self.stats, "articles_skipped")
                return item
            if isinstance(item, AliasItem):
                if self.archive.record_alias(item.url, item.target, item.reason) is None:
                    self._pending_aliases.append(item)  # its article is not stored yet
                return item
        except StorageError as exc:
            self._fatal(exc)
            raise DropItem(f"not recorded: {exc}", log_level="DEBUG") from None
        if not isinstance(item, Extracted):
            return item
        if self.stats.get_value("newsvault/fatal"):
            raise DropItem("not stored: the archive cannot be written", log_level="DEBUG")
        page = item.page
        hashes = (item.fingerprint, item.simhash) if item.has_simhash else None
        record = article_record(page.source, item.key, item.article, hashes)
        body = PackedBody(page.html, *item.packed_body) if item.packed_body else page.html
        fetch = FetchRecord(
            url=page.url,
            fetched_at=page.fetched_at,
            status=page.status,
            body=body,
            headers=page.headers,
            lastmod=page.lastmod,
            rendered=item.rendered,
        )
        self.writer.add(record, fetch)
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        try:
            for alias in self._pending_aliases:
                self.archive.record_alias(alias.url, alias.target, alias.reason)
        except StorageError as exc:
            if not self.stats.get_value("newsvault/fatal"):
                log.error("could not record the aliases of run %s: %s", self.run_id, exc)
        counts = counts_from_stats(self.stats)
        fatal = self.stats.get_value("newsvault/fatal")
        status = run_status(counts, fatal=fatal, reason=reason)
        self.stats.set_value("newsvault/status", status)
        try:
            message = fatal or cap_message(counts["urls_over_cap"])
            self.archive.finish_run(self.run_id, status, counts, message=message)
        except StorageError as exc:
            if not fatal:  # else the run's own failure says it already
                log.error("could not record the end of run %s: %s", self.run_id, exc)
            self.stats.set_value("newsvault/fatal", fatal or str(exc))
            self.stats.set_value("newsvault/status", "failed")
        _close_shared_archive(self.archive)
