"""``newsvault worker``: take requests from the shared frontier, fetch, extract and store them.

A worker runs one spider per configured source, with no entry points of its own: what it fetches
comes from the frontier (``frontier:`` in the config; :mod:`crawler.frontier`), seeded by
``newsvault crawl`` or the daemon's scheduled crawls. It never schedules. It stops on SIGTERM or
SIGINT (it takes nothing new, finishes what is in flight, gives back what it took and had not
started, and exits 0; a second signal ends it at once) or, with ``exit_when_idle``, once the
frontier has had no open entry for that many seconds. Each spider records its work as a run
with trigger "worker", whose counts and last sign of life (``heartbeat_at``) the worker refreshes
every ``heartbeat`` seconds: ``newsvault status`` lists the workers with their last activity,
and such a run is not taken for the source's last crawl.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from common.config import Config
from common.errors import ConfigError, StorageError
from common.runs import HEARTBEAT_SECONDS, counts_from_stats
from newsvault.crawl import load_source_state

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def run_worker(
    config: Config,
    *,
    exit_when_idle: float | None = None,
    extract_workers: int | None = None,
    visibility: float | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> int:
    """Work until stopped; returns the number of entries this process finished."""
    from scrapy.crawler import CrawlerProcess

    from crawler.frontier import Frontier, check_frontier, connect
    from crawler.settings import scrapy_settings
    from crawler.spiders.news import NewsSpider
    from storage.repository import Archive

    if not config.frontier:
        raise ConfigError("newsvault worker needs a frontier: redis://host:port/db in the config")
    if not config.sources:
        raise ConfigError("no sources configured: a worker would have nothing to fetch")

    class WorkerSpider(NewsSpider):
        """A source's spider that only handles what the frontier hands it."""

        frontier_stop = False

        async def start(self) -> Any:
            return
            yield  # an async generator with nothing in it

    check_frontier(config.frontier)
    settings = scrapy_settings(config, trigger="worker", extract_workers=extract_workers)
    settings["NEWSVAULT_FRONTIER_ROLE"] = "work"
    settings["NEWSVAULT_MAX_PAGES"] = 0
    if visibility is not None:
        settings["NEWSVAULT_FRONTIER_VISIBILITY"] = visibility
    archive = Archive.open(config.database)  # fail fast, and migrate once, before any fetch
    try:
        archive.check_writable()
        incremental = bool(settings["NEWSVAULT_INCREMENTAL"])
        states = {
            s.name: load_source_state(archive, s.name, incremental=incremental)
            for s in config.sources
        }
    except BaseException:
        archive.close()
        raise
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    process = CrawlerProcess(settings)
    crawlers = []
    for source in config.sources:
        crawler = process.create_crawler(WorkerSpider)
        crawlers.append(crawler)
        process.crawl(crawler, source=source, fetch_state=states[source.name])

    from twisted.internet import task  # after process.crawl(), which installs the reactor

    def stop(*_: Any) -> None:
        for c in crawlers:
            if c.spider is not None:
                c.spider.frontier_stop = True  # type: ignore[attr-defined]

    stopping: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        if stopping:  # a second signal: stop now (what was taken returns after the timeout)
            os._exit(1)
        stopping.append(signum)
        log.warning("worker: signal %d, finishing what is in flight", signum)
        stop()  # Python runs signal handlers in the main thread, the reactor's

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def beat() -> None:
        """Each source's run: its counts so far and a sign of life (status, other hosts)."""
        for c in crawlers:
            run_id = c.stats.get_value("newsvault/run_id") if c.stats is not None else None
            if run_id is None:
                continue
            try:
                archive.run_heartbeat(int(run_id), counts_from_stats(c.stats))
            except StorageError as exc:
                log.warning("could not refresh run %s: %s", run_id, exc)

    if heartbeat > 0:
        task.LoopingCall(beat).start(heartbeat, now=False)

    if exit_when_idle is not None:
        client = connect(config.frontier)
        frontiers = [Frontier(client, s.name) for s in config.sources]
        idle_since = [time.monotonic()]

        def check_idle() -> None:
            try:
                busy = not all(f.idle() for f in frontiers)
            except Exception as exc:  # Redis restarting: not idle
                log.warning("frontier unreachable: %s", exc)
                busy = True
            if busy:
                idle_since[0] = time.monotonic()
            elif time.monotonic() - idle_since[0] >= exit_when_idle:
                stop()

        loop = task.LoopingCall(check_idle)
        loop.start(0.5, now=False)
    try:
        process.start(install_signal_handlers=False)
    finally:
        archive.close()
    done = 0
    for c in crawlers:
        if c.stats is not None:
            done += int(c.stats.get_value("frontier/dequeued") or 0)
    return done
