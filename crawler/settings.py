"""Scrapy settings built from newsvault's :class:`~common.config.Config`.

Every newsvault-specific setting, with its default, is declared in :data:`NEWSVAULT_DEFAULTS`
(sorted; document new settings here). Components read them only through ``from_crawler``.
"""

from __future__ import annotations

import os
from typing import Any

from common.config import Config

__all__ = ["NEWSVAULT_DEFAULTS", "scrapy_settings"]

# Scrapy components never used here. They are left out of Scrapy's base lists, not switched off
# with None: Scrapy imports every component its settings name, off or not, to sort them, and
# these cost a crawl's start-up.
_UNUSED_COMPONENTS = {
    # nothing is ever driven from outside: no telnet console, no remote-control HTTP server
    # (Scrapy 2.19 starts one per crawler, i.e. per source, by default)
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.memusage.MemoryUsage",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.logstats.LogStats",  # it only logs at INFO, below our level
    "scrapy.extensions.feedexport.FeedExporter",  # no FEEDS: the archive is the output
    "scrapy.extensions.spiderstate.SpiderState",  # no JOBDIR
    # SafetyMiddleware checks domains itself, and its refusals reach the errback (Scrapy's
    # offsite filter drops redirects to other domains without a word)
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",  # no credentials
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",  # COOKIES_ENABLED is off
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",  # no HTTP cache
}


def _base(name: str) -> dict[str, int]:
    """Scrapy's default ``name`` (a component list) without :data:`_UNUSED_COMPONENTS`."""
    from scrapy.settings import default_settings

    default: dict[str, int] = getattr(default_settings, name)
    return {k: v for k, v in default.items() if k not in _UNUSED_COMPONENTS}

NEWSVAULT_DEFAULTS: dict[str, Any] = {
    # Permit loopback/private/link-local targets (tests, the demo, intranet sites).
    "NEWSVAULT_ALLOW_PRIVATE_NETWORKS": False,
    # Headless Chromium for sources with render: auto|always (Playwright's executable_path).
    "NEWSVAULT_CHROMIUM": "/usr/bin/chromium",
    # SQLAlchemy URL of the archive.
    "NEWSVAULT_DATABASE": "sqlite:///newsvault.db",
    # Seconds one page's extraction may take in a worker before it is abandoned (0: no limit).
    "NEWSVAULT_EXTRACT_TIMEOUT": 60.0,
    # redis:// URL of the shared frontier (crawler.frontier); None: Scrapy's own scheduler.
    "NEWSVAULT_FRONTIER": None,
    # With a frontier: "seed" (newsvault crawl: opens a run, closes when it is done) or "work".
    "NEWSVAULT_FRONTIER_ROLE": "seed",
    # Seconds an entry taken by a process that stopped refreshing it waits for another process.
    "NEWSVAULT_FRONTIER_VISIBILITY": 60.0,
    # Worker processes for extraction; 0 extracts in the crawling process itself (no time limit).
    "NEWSVAULT_EXTRACT_WORKERS": 0,
    # Fetch only what is new, moved or due (crawler.incremental.Incremental); off: fetch all.
    "NEWSVAULT_INCREMENTAL": False,
    # Max simhash Hamming distance of a near-duplicate (0-3); None: exact text only.
    "NEWSVAULT_NEAR_DUPLICATE_DISTANCE": 3,
    # Who shows the progress (crawler.extensions.Reporter); None: lines on stderr.
    "NEWSVAULT_PROGRESS": None,
    # Seconds between progress reports; 0 switches progress off.
    "NEWSVAULT_PROGRESS_INTERVAL": 0,
    # Seconds one page's rendering may take in headless Chromium.
    "NEWSVAULT_RENDER_TIMEOUT": 20.0,
    # Re-check rules: ((younger_than_seconds, every_seconds), ...) in increasing age order.
    "NEWSVAULT_RECHECK": ((172800.0, 0.0), (1209600.0, 86400.0)),
    # Articles written per transaction (at most); 1 writes each article alone.
    "NEWSVAULT_STORE_BATCH": 100,
    # A pending batch is written once its oldest article has waited this many seconds.
    "NEWSVAULT_STORE_FLUSH_SECONDS": 1.0,
    # What started the run: "manual" or "schedule".
    "NEWSVAULT_TRIGGER": "manual",
}


def scrapy_settings(
    config: Config,
    *,
    trigger: str = "manual",
    progress_interval: float = 0,
    progress: Any = None,
    extract_workers: int | None = None,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    c = config.crawl
    workers = extract_workers if extract_workers is not None else min(4, os.cpu_count() or 1)
    frontier: dict[str, Any] = {}
    if config.frontier:
        # An entry is acknowledged once its items went through the pipelines: they must be
        # stored by then, so each article is written on its own.
        frontier = {
            "NEWSVAULT_FRONTIER": config.frontier,
            "NEWSVAULT_STORE_BATCH": 1,
            "SCHEDULER": "crawler.frontier.FrontierScheduler",
        }
    return {
        **NEWSVAULT_DEFAULTS,
        "NEWSVAULT_ALLOW_PRIVATE_NETWORKS": c.allow_private_networks,
        "NEWSVAULT_CHROMIUM": c.chromium,
        "NEWSVAULT_RENDER_TIMEOUT": c.render_timeout,
        "NEWSVAULT_DATABASE": config.database,
        "NEWSVAULT_EXTRACT_TIMEOUT": c.extract_timeout,
        "NEWSVAULT_EXTRACT_WORKERS": workers,
        "NEWSVAULT_INCREMENTAL": config.incremental.enabled,
        "NEWSVAULT_NEAR_DUPLICATE_DISTANCE": config.dedupe.near_duplicate_distance,
        "NEWSVAULT_RECHECK": tuple(
            (r.younger_than.total_seconds(), r.every.total_seconds())
            for r in config.incremental.recheck
        ),
        "NEWSVAULT_PROGRESS": progress,
        "NEWSVAULT_PROGRESS_INTERVAL": progress_interval,
        "NEWSVAULT_TRIGGER": trigger,
        "USER_AGENT": c.user_agent,
        "ROBOTSTXT_OBEY": c.obey_robots,
        # Scrapy 2.19 under asyncio does not hold CONCURRENT_REQUESTS_PER_DOMAIN (its downloader
        # hands out a slot's whole queue before the first download marks itself started), so
        # the per-crawler cap, which it does hold, is what keeps one source's site within it.
        "CONCURRENT_REQUESTS": c.concurrency_per_domain,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.concurrency_per_domain,
        # Scrapy starts this many tasks for the output of EVERY response; ours yield one item
        # (or a list of requests, scheduled synchronously), so 100 (the default) is pure cost.
        "CONCURRENT_ITEMS": 4,
        "DOWNLOAD_DELAY": c.download_delay,
        "AUTOTHROTTLE_ENABLED": c.download_delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(c.download_delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(c.concurrency_per_domain),
        "DOWNLOAD_TIMEOUT": c.timeout,
        "DOWNLOAD_MAXSIZE": c.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": 2,
        # 429 and 503 are not retried at once: the URL is put off until its Retry-After.
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        "DEPTH_LIMIT": 4,
        "TWISTED_DNS_RESOLVER": "crawler.middlewares.SafeResolver",
        "DOWNLOADER_MIDDLEWARES_BASE": _base("DOWNLOADER_MIDDLEWARES_BASE"),
        "EXTENSIONS_BASE": _base("EXTENSIONS_BASE"),
        # http(s) only (SafetyMiddleware refuses other schemes): no S3, FTP, file or data
        # handler is imported
        "DOWNLOAD_HANDLERS": {"s3": None, "ftp": None, "file": None, "data": None},
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.SafetyMiddleware": 50,
            "crawler.politeness.CrawlDelayMiddleware": 60,
            "crawler.middlewares.RedirectLoopMiddleware": 650,
        },
        "ITEM_PIPELINES": {
            "pipeline.pipelines.ExtractPipeline": 100,
            "pipeline.render.RenderPipeline": 150,
            "pipeline.pipelines.DedupePipeline": 200,
            "pipeline.pipelines.StorePipeline": 300,
        },
        "EXTENSIONS": {"crawler.extensions.Progress": 500},
        **frontier,
    }
