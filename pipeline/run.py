"""Orchestration: one crawl of some sources, start to finish, in this process.

Scrapy's Twisted reactor cannot be restarted, so :func:`run_crawl` may be called once per
process; the daemon therefore runs each crawl as a child ``newsvault crawl`` process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.config import Config, Source
from pipeline.errors import StorageError

__all__ = ["RunResult", "run_crawl"]


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
    message: str | None = None


def run_crawl(
    config: Config,
    sources: Sequence[Source],
    *,
    limit: int | None = None,
    trigger: str = "manual",
    progress_interval: float = 2.0,
    extract_workers: int | None = None,
) -> list[RunResult]:
    """Crawl ``sources`` once, concurrently, and return one result per source.

    Raises StorageError before fetching anything if the archive cannot be opened or migrated.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.extensions import progress_counts
    from crawler.settings import scrapy_settings
    from crawler.spiders.news import NewsSpider
    from storage.repository import Archive

    archive = Archive.open(config.database)  # fail fast, and migrate once, before any fetch
    try:
        archive.check_writable()
        waiting = {s.name: archive.waiting_urls(s.name) for s in sources}
    finally:
        archive.close()
    settings = scrapy_settings(
        config,
        trigger=trigger,
        progress_interval=progress_interval,
        extract_workers=extract_workers,
    )
    settings["NEWSVAULT_MAX_PAGES"] = config.crawl.max_pages_per_run
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    process = CrawlerProcess(settings)
    # An unreachable robots.txt is normal (the page's own failure is recorded); no traceback.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    crawlers = []
    for source in sources:
        crawler = process.create_crawler(NewsSpider)
        crawlers.append((source, crawler))
        process.crawl(crawler, source=source, limit=limit, waiting=waiting[source.name])
    process.start()
    results = []
    for source, crawler in crawlers:
        stats = crawler.stats
        assert stats is not None
        counts = progress_counts(stats)
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
    if any(r.message for r in results) and all(r.status == "failed" for r in results):
        raise StorageError(next(r.message for r in results if r.message) or "storage failed")
    return results
