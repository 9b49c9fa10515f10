"""The live progress of a crawl: pages fetched, articles new/updated/unchanged/skipped, errors.

The :class:`Progress` extension hands each source's counters, every
``NEWSVAULT_PROGRESS_INTERVAL`` seconds, to a reporter: the ``NEWSVAULT_PROGRESS`` setting
(the application's progress bar, for instance), else :class:`ProgressLines`, one line per source
on stderr. A reporter has ``start(source)``, ``update(source, counts)`` and
``finish(source, counts)``; the crawl's orchestration calls ``finish`` with the counts the run
summary shows, so the last progress and the summary agree.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from common.runs import counts_from_stats, describe_counts

__all__ = ["Progress", "ProgressLines", "Reporter"]


class Reporter(Protocol):
    def start(self, source: str) -> None: ...

    def update(self, source: str, counts: Mapping[str, int]) -> None: ...

    def finish(self, source: str, counts: Mapping[str, int]) -> None: ...


class ProgressLines:
    """One line per source and report on ``out`` (stderr):
    ``[example-news] pages 12 (3.1/s), new 3, updated 0, ...``; ``done in 4.0 s`` at the end."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self._t0: dict[str, float] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> ProgressLines:
        return self  # Scrapy copies its settings; every crawler must report to this one

    def start(self, source: str) -> None:
        self._t0[source] = time.monotonic()

    def _elapsed(self, source: str) -> float:
        return max(time.monotonic() - self._t0.get(source, time.monotonic()), 1e-6)

    def update(self, source: str, counts: Mapping[str, int]) -> None:
        rate = counts["pages_fetched"] / self._elapsed(source)
        self._print(f"[{source}] {describe_counts(counts)} ({rate:.1f} pages/s)")

    def finish(self, source: str, counts: Mapping[str, int]) -> None:
        self._print(f"[{source}] done in {self._elapsed(source):.1f} s: {describe_counts(counts)}")

    def _print(self, line: str) -> None:
        print(line, file=self.out or sys.stderr, flush=True)


class Progress:
    """Reports one source's counters every ``NEWSVAULT_PROGRESS_INTERVAL`` seconds (0: off)."""

    def __init__(self, stats: Any, interval: float, reporter: Reporter) -> None:
        self.stats = stats
        self.interval = interval
        self.reporter = reporter
        self.name = "?"
        self._task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("NEWSVAULT_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        reporter = crawler.settings.get("NEWSVAULT_PROGRESS") or ProgressLines()
        ext = cls(crawler.stats, interval, reporter)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.name = getattr(getattr(spider, "source", None), "name", spider.name)
        self.reporter.start(self.name)
        self._task = task.LoopingCall(self.report)
        self._task.start(self.interval, now=False)

    def report(self) -> None:
        self.reporter.update(self.name, counts_from_stats(self.stats))

    def spider_closed(self, spider: Any) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
