"""Orchestration: one crawl of some sources, start to finish, in this process.

Scrapy's Twisted reactor cannot be restarted, so :func:`run_crawl` may be called once per
process; the daemon therefore runs each crawl as a child ``newsvault crawl`` process.

The crawler never opens the archive: each source's :class:`~common.fetchstate.SourceState` is
loaded here (:func:`load_source_state`), handed to its spider, and what the spider hands back in
it is saved here after the crawl (:func:`save_source_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from common.config import Config, Source
from common.errors import StorageError
from common.fetchstate import SourceState
from common.runs import counts_from_stats

if TYPE_CHECKING:
    from crawler.extensions import Reporter
    from storage.repository import Archive

__all__ = ["RETRY_WINDOW", "RunResult", "load_source_state", "run_crawl", "save_source_state"]

log = logging.getLogger(__name__)

#: how long an article URL that failed transiently is tried again on every run
RETRY_WINDOW = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class RunResult:
    source: str
    run_id: int | None
    status: str
    pages_fetched: int
    articles_new: int
    articles_updated: int
    articles_unchanged: int
    articles_skipped: int
    errors: int
    urls_over_cap: int = 0
    message: str | None = None


def load_source_state(
    archive: Archive, source: str, *, incremental: bool, now: datetime | None = None
) -> SourceState:
    """The fetch state to hand to the spider of ``source``: the URLs a server asked us to put
    off and, with ``incremental``, the state of its known URLs, its listings' validators and the
    article URLs that failed transiently since ``now`` - RETRY_WINDOW. Raises StorageError if
    the archive cannot be read."""
    state = SourceState(waiting=archive.waiting_urls(source))
    if incremental:
        since = (now or datetime.now(UTC)) - RETRY_WINDOW
        state.urls = archive.url_states(source)
        state.validators = archive.validators(source)
        state.retry = archive.retry_urls(source, since)
    return state


def save_source_state(archive: Archive, source: str, state: SourceState) -> None:
    """Save what the spider of ``source`` handed back: its listings' validators, when it marked
    them to be kept. A failure is only logged: the next run then reads its listings in full."""
    try:
        archive.save_validators(source, state.validators_to_save())
    except StorageError as exc:
        log.warning("could not save the validators of %s's listings: %s", source, exc)


def run_crawl(
    config: Config,
    sources: Sequence[Source],
    *,
    limit: int | None = None,
    trigger: str = "manual",
    progress_interval: float = 2.0,
    progress: Reporter | None = None,
    extract_workers: int | None = None,
    log_level: str = "WARNING",
) -> list[RunResult]:
    """Crawl ``sources`` once, concurrently, and return one result per source.

    Progress is reported every ``progress_interval`` seconds (0: never) to ``progress`` (default:
    lines on stderr), and once more at the end of each source with the counts of its result.
    ``log_level``: of Scrapy's log on stderr (WARNING: problems only).

    Each source's lock is taken first (:mod:`newsvault.locks`): a source another live crawl is
    running is not crawled; its result (and recorded run) has status "skipped" and a message
    naming that crawl. Raises StorageError before fetching anything if the archive cannot be
    opened, migrated, read or written.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.extensions import ProgressLines
    from crawler.settings import scrapy_settings
    from crawler.spiders.news import NewsSpider
    from newsvault.locks import SourceLocks
    from storage.repository import Archive
    from storage.runlog import RunLog

    if config.frontier:  # one line, before any fetch, when the frontier cannot be used
        from crawler.frontier import check_frontier

        check_frontier(config.frontier)
    archive = Archive.open(config.database)  # fail fast, and migrate once, before any fetch
    locks = SourceLocks(RunLog(archive))
    try:
        archive.check_writable()
        mine, skipped = locks.take(sources, trigger)
        results = [
            RunResult(name, run_id, "skipped", 0, 0, 0, 0, 0, 0, message=message)
            for name, run_id, message in skipped
        ]
        if not mine:
            return results
        if progress is None and progress_interval > 0:
            progress = ProgressLines()
        settings = scrapy_settings(
            config,
            trigger=trigger,
            progress_interval=progress_interval,
            progress=progress,
            extract_workers=extract_workers,
            log_level=log_level,
        )
        incremental = bool(settings["NEWSVAULT_INCREMENTAL"])
        states = {s.name: load_source_state(archive, s.name, incremental=incremental) for s in mine}
        settings["NEWSVAULT_MAX_PAGES"] = config.crawl.max_pages_per_run
        logging.getLogger("scrapy").setLevel(log_level)
        process = CrawlerProcess(settings)
        # An unreachable robots.txt is normal (the page's own failure is recorded); no traceback.
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
        crawlers = []
        for source in mine:
            crawler = process.create_crawler(NewsSpider)
            crawlers.append((source, crawler))
            process.crawl(crawler, source=source, limit=limit, fetch_state=states[source.name])
        locks.start_heartbeat()
        process.start()
        for name, state in states.items():  # still under the sources' locks
            save_source_state(archive, name, state)
    finally:
        release_errors = locks.release_all()
        archive.close()
    for source, crawler in crawlers:
        stats = crawler.stats
        assert stats is not None
        counts = counts_from_stats(stats)
        if progress is not None and progress_interval > 0:
            progress.finish(source.name, counts)
        fatal = stats.get_value("newsvault/fatal")
        results.append(
            RunResult(
                source=source.name,
                run_id=stats.get_value("newsvault/run_id"),
                status=stats.get_value("newsvault/status") or ("failed" if fatal else "unknown"),
                message=fatal,
                **counts,
            )
        )
    order = {s.name: i for i, s in enumerate(sources)}
    results.sort(key=lambda r: order.get(r.source, 0))
    crawled = [r for r in results if r.status != "skipped"]
    if any(r.message for r in crawled) and all(r.status == "failed" for r in crawled):
        raise StorageError(next(r.message for r in crawled if r.message) or "storage failed")
    if release_errors:  # the archive stopped taking writes at the very end (e.g. a full disk)
        raise StorageError(release_errors[0])
    return results
