"""Scrapy settings built from newsvault's :class:`~common.config.Config`.

Every newsvault-specific setting, with its default, is declared in :data:`NEWSVAULT_DEFAULTS`
(sorted; document new settings here). Components read them only through ``from_crawler``.
"""

from __future__ import annotations

import os
from typing import Any

from common.config import Config

__all__ = ["NEWSVAULT_DEFAULTS", "scrapy_settings"]

NEWSVAULT_DEFAULTS: dict[str, Any] = {
    # Permit loopback/private/link-local targets (tests, the demo, intranet sites).
    "NEWSVAULT_ALLOW_PRIVATE_NETWORKS": False,
    # Headless Chromium for sources with render: auto|always (Playwright's executable_path).
    "NEWSVAULT_CHROMIUM": "/usr/bin/chromium",
    # SQLAlchemy URL of the archive.
    "NEWSVAULT_DATABASE": "sqlite:///newsvault.db",
    # Seconds one page's extraction may take in a worker before it is abandoned (0: no limit).
    "NEWSVAULT_EXTRACT_TIMEOUT": 60.0,
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
        # Nothing here is ever driven from outside: no telnet console, and no remote-control
        # HTTP server (Scrapy 2.19 starts one per crawler, i.e. per source, by default).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        "DEPTH_LIMIT": 4,
        "TWISTED_DNS_RESOLVER": "crawler.middlewares.SafeResolver",
        "DOWNLOADER_MIDDLEWARES": {
            # SafetyMiddleware checks domains itself, and its refusals reach the errback
            # (Scrapy's offsite filter drops redirects to other domains without a word).
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,  # no credentials
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
        "EXTENSIONS": {
            "crawler.extensions.Progress": 500,
            # LogStats only logs at INFO, below our level
            "scrapy.extensions.remote_control.RemoteControl": None,
            "scrapy.extensions.telnet.TelnetConsole": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
            "scrapy.extensions.logstats.LogStats": None,
        },
    }
