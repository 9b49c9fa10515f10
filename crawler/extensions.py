"""The live progress line: pages fetched, articles new/updated/unchanged/skipped, errors."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from common.runs import counts_from_stats

__all__ = ["Progress"]


class Progress:
    """Prints one progress line per source every ``NEWSVAULT_PROGRESS_INTERVAL`` seconds."""

    def __init__(self, stats: Any, interval: float, out: TextIO = sys.stderr) -> None:
        self.stats = stats
        self.interval = interval
        self.out = out
        self.name = "?"
        self._task: task.LoopingCall | None = None
        self._t0 = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("NEWSVAULT_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler.stats, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.name = getattr(getattr(spider, "source", None), "name", spider.name)
        self._t0 = time.monotonic()
        self._task = task.LoopingCall(self.report)
        self._task.start(self.interval, now=False)

    def report(self) -> None:
        c = counts_from_stats(self.stats)
        rate = c["pages_fetched"] / max(time.monotonic() - self._t0, 1e-6)
        print(
            f"[{self.name}] pages {c['pages_fetched']} ({rate:.1f}/s) · new {c['articles_new']}"
            f" · updated {c['articles_updated']} · unchanged {c['articles_unchanged']}"
            f" · skipped {c['articles_skipped']} · errors {c['errors']}",
            file=self.out,
            flush=True,
        )

    def spider_closed(self, spider: Any) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
