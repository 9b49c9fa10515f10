"""The source locks of one crawl process: taken before fetching, kept fresh, given back after.

:func:`newsvault.crawl.run_crawl` takes each source's lock (:class:`storage.runlog.RunLog`) before
its spider starts. A source whose lock is held by a live crawl is skipped: a run with status
"skipped" is recorded, naming the holder. While the crawl runs, a Twisted ``LoopingCall`` refreshes
the heartbeat of every lock it holds and of its runs; at the end the locks are released.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from common.config import Source
from common.errors import StorageError
from common.runs import HEARTBEAT_SECONDS, STALE_AFTER_SECONDS
from storage.runlog import RunLog

__all__ = ["HEARTBEAT_SECONDS", "STALE_AFTER_SECONDS", "SourceLocks"]

log = logging.getLogger(__name__)


class SourceLocks:
    """Take, refresh and release the locks of the sources one crawl process runs."""

    def __init__(
        self,
        runlog: RunLog,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        stale_after: float = STALE_AFTER_SECONDS,
    ) -> None:
        self.runlog = runlog
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.held: list[str] = []
        self._loop: Any = None

    def take(
        self, sources: Sequence[Source], trigger: str
    ) -> tuple[list[Source], list[tuple[str, int, str]]]:
        """Lock what can be locked: (sources to crawl, (name, run id, message) per skipped one).

        Each skipped source gets a recorded run with status "skipped" whose message names the
        process holding the lock. Raises StorageError if the archive cannot be written.
        """
        mine: list[Source] = []
        skipped: list[tuple[str, int, str]] = []
        for source in sources:
            holder = self.runlog.acquire(source.name, stale_after=self.stale_after)
            if holder is None:
                self.held.append(source.name)
                mine.append(source)
                continue
            message = f"already being crawled by {holder.describe()}"
            run_id = self.runlog.record_run(
                source.name, trigger, "skipped", message, pid=self.runlog.pid
            )
            skipped.append((source.name, run_id, message))
        return mine, skipped

    def beat(self) -> None:
        """Refresh every held lock and this process's running runs (their last sign of life,
        which other hosts judge them by); a lock lost to a takeover is logged, not fatal."""
        for name in self.held:
            try:
                if not self.runlog.heartbeat(name):
                    log.error("%s: lost its crawl lock (taken over as stale)", name)
            except StorageError as exc:
                log.warning("%s: could not refresh the crawl lock: %s", name, exc)
        try:
            self.runlog.touch_runs()
        except StorageError as exc:
            log.warning("could not refresh the runs' heartbeat: %s", exc)

    def start_heartbeat(self) -> None:
        """Refresh the locks every ``heartbeat`` seconds on the (installed) Twisted reactor."""
        from twisted.internet import task

        if self.held and self.heartbeat > 0:
            self._loop = task.LoopingCall(self.beat)
            self._loop.start(self.heartbeat, now=False)

    def release_all(self) -> list[str]:
        """Give back every held lock; returns the errors (logged at INFO only: a dead pid's
        lock goes stale anyway, and an archive that cannot be written is the caller's to
        report, in its one line)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        errors = []
        for name in self.held:
            try:
                self.runlog.release(name)
            except StorageError as exc:
                log.info("%s: could not release the crawl lock: %s", name, exc)
                errors.append(str(exc))
        self.held.clear()
        return errors
