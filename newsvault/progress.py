"""A progress bar on the terminal for long commands (``crawl``, ``reextract``, ``copy``), drawn
by rich.

On a terminal, :class:`ProgressBar` shows one bar per source of a crawl (a
:class:`crawler.extensions.Reporter`), or one bar with a known total (:meth:`ProgressBar.task`);
elsewhere the commands print their one-line counters instead.

Example::

    with ProgressBar(console()) as bar:
        run_crawl(config, sources, progress=bar, progress_interval=0.2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from common.runs import describe_counts

__all__ = ["ProgressBar"]


class ProgressBar:
    """A rich progress display; its lines stay on screen when it stops."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=12),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> ProgressBar:
        return self  # Scrapy copies its settings; every crawler must report to this one

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    # -- a crawl's sources (crawler.extensions.Reporter) ---------------------------------------

    def start(self, source: str) -> None:
        if source not in self._tasks:
            self._tasks[source] = self.progress.add_task(source, total=None, counts="")

    def update(self, source: str, counts: Mapping[str, int]) -> None:
        self.start(source)
        self.progress.update(
            self._tasks[source], completed=counts["pages_fetched"], counts=describe_counts(counts)
        )

    def finish(self, source: str, counts: Mapping[str, int]) -> None:
        self.start(source)
        pages = counts["pages_fetched"]
        self.progress.update(
            self._tasks[source], total=pages, completed=pages, counts=describe_counts(counts)
        )

    # -- one job with a known total --------------------------------------------------------------

    def task(self, description: str, total: int) -> Callable[[int, str], None]:
        """A bar of ``total`` steps; returns ``advance(done, counts_text)``."""
        tid = self.progress.add_task(description, total=total, counts="")

        def advance(done: int, text: str) -> None:
            self.progress.update(tid, completed=done, counts=text)

        return advance

    def counter(self, description: str) -> Callable[[int, str], None]:
        """A bar without a known total (it pulses); returns ``show(done, counts_text)``."""
        tid = self.progress.add_task(description, total=None, counts="")

        def show(done: int, text: str) -> None:
            self.progress.update(tid, completed=done, counts=text)

        return show
