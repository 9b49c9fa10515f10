"""One scheduled run as a child process: started, watched, stopped, and settled in the runs table.

The child is our own ``newsvault crawl`` command (only flags cross the boundary), in a session of
its own so that a Ctrl-C on the daemon's terminal reaches the daemon only. Its stderr (progress
lines, warnings) is forwarded line by line to the daemon's log under the source's name.

Stopping is two-step: SIGTERM to the child (Scrapy finishes the pages in flight, writes them, and
records the run as "stopped"), then, ``kill_after`` seconds later, SIGKILL to its whole process
group (the crawl and its extraction workers). When the child has exited, :func:`settle` makes the
runs table tell the truth: a run over its time budget becomes "timed out", a crashed one "failed"
(a row is inserted when the child died before it could record its run), and a lock left behind by
a dead child is released.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from common.dates import utcnow
from common.errors import StorageError
from common.runs import SUCCESS, describe_counts
from storage.runlog import RunLog

__all__ = ["CrawlChild", "crawl_command", "describe_exit", "settle"]

# a child's line that reports a problem (Scrapy's "[logger] ERROR: ...", a traceback, our CLI)
_PROBLEM = re.compile(r"\] (?:WARNING|ERROR|CRITICAL): |^Traceback |^newsvault: ")


def crawl_command(config_path: Path, source: str, progress_interval: float) -> list[str]:
    """The child's command line: our own crawl command, for one source, as the scheduler."""
    return [
        sys.executable,
        "-m",
        "newsvault",
        "crawl",
        "--config",
        str(config_path),
        "--source",
        source,
        "--trigger",
        "schedule",
        "--progress-interval",
        str(progress_interval),
    ]


def describe_exit(rc: int) -> str:
    if rc < 0:
        try:
            return f"was killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"was killed by signal {-rc}"
    return f"exited with status {rc}"


@dataclass(eq=False)
class CrawlChild:
    """A running ``newsvault crawl`` child of the daemon, with its time budget."""

    source: str
    proc: subprocess.Popen[str]
    timeout: float
    kill_after: float
    log: logging.Logger
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=utcnow)
    stop_reason: str | None = None  # "timeout" or "shutdown", once SIGTERM was sent
    term_sent: float | None = None
    killed: bool = False
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    _reader: threading.Thread | None = None

    @classmethod
    def spawn(
        cls, argv: list[str], source: str, *, timeout: float, kill_after: float, log: logging.Logger
    ) -> CrawlChild:
        """Start the child. Raises OSError if it cannot be started."""
        started_at = utcnow() - timedelta(seconds=1)  # runs.started_at is written by the child
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        child = cls(source, proc, timeout, kill_after, log, started_at=started_at)
        child._reader = threading.Thread(target=child._pump, name=f"stderr-{source}", daemon=True)
        child._reader.start()
        return child

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        prefix = f"[{self.source}] "
        for raw in self.proc.stderr:
            line = raw.rstrip()
            if not line:
                continue
            line = line.removeprefix(prefix)
            self.tail.append(line)
            level = logging.WARNING if _PROBLEM.search(line) else logging.INFO
            self.log.log(
                level, line, extra={"source": self.source, "event": "output", "pid": self.pid}
            )
        self.proc.stderr.close()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def over_budget(self) -> bool:
        return self.term_sent is None and self.elapsed() >= self.timeout

    def due_for_kill(self) -> bool:
        return (
            self.term_sent is not None
            and not self.killed
            and time.monotonic() - self.term_sent >= self.kill_after
        )

    def terminate(self, reason: str) -> None:
        """Ask the crawl to stop cleanly (SIGTERM to the crawl process only)."""
        if self.term_sent is not None:
            return
        self.stop_reason = reason
        self.term_sent = time.monotonic()
        try:
            self.proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the crawl and everything in its process group (its extraction workers)."""
        self.killed = True
        self._killpg()

    def _killpg(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def reap(self) -> None:
        """After the crawl exited: kill leftovers of its group, wait for its stderr to drain."""
        self._killpg()
        if self._reader is not None:
            self._reader.join(timeout=5)


def _outcome(child: CrawlChild, rc: int, run: dict[str, Any] | None) -> tuple[str | None, str]:
    """(status to write, or None to keep the child's own; message)."""
    if child.stop_reason == "timeout":
        msg = f"over its time budget of {child.timeout:g} s: stopped"
        if child.killed:
            msg += f", then killed {child.kill_after:g} s after SIGTERM"
        return "timed out", msg
    if child.stop_reason == "shutdown":
        if child.killed:
            return "stopped", f"killed {child.kill_after:g} s after SIGTERM at daemon shutdown"
        if run is None or run["status"] == "running":
            return "stopped", f"daemon shutdown: the crawl process {describe_exit(rc)}"
        return None, ""
    if rc == 0:
        if run is None:
            return "failed", "the crawl process exited without recording a run"
        return None, ""
    last = f": {child.tail[-1]}" if child.tail else ""
    if run is None:
        return "failed", f"the crawl process {describe_exit(rc)} before recording its run{last}"
    if run["status"] == "running":
        return "failed", f"the crawl process {describe_exit(rc)}{last}"
    return None, ""


def settle(child: CrawlChild, rc: int, runlog: RunLog, log: logging.Logger) -> str:
    """Record how ``child``'s run ended; returns the run's final status ("?" if unknown)."""
    extra: dict[str, Any] = {"source": child.source, "pid": child.pid}
    took = f"{child.elapsed():.1f} s"
    try:
        run = runlog.run_of_process(child.source, child.pid, child.started_at)
        status, message = _outcome(child, rc, run)
        if status is not None and run is not None:
            runlog.settle_run(run["id"], status, message)
        elif status is not None:
            runlog.record_run(child.source, "schedule", status, message, pid=child.pid)
        runlog.release(child.source, pid=child.pid)
        run = runlog.run_of_process(child.source, child.pid, child.started_at)
    except StorageError as exc:
        log.error(
            "the crawl process %s after %s; could not record its run: %s",
            describe_exit(rc),
            took,
            exc,
            extra={**extra, "event": "run-unrecorded"},
        )
        return "?"
    assert run is not None
    final = str(run["status"])
    text = f"run {run['id']} {final} after {took}: {describe_counts(run)}"
    if run["message"]:
        text += f" ({run['message']})"
    level = logging.INFO if final in (*SUCCESS, "skipped", "stopped") else logging.ERROR
    log.log(
        level,
        text,
        extra={**extra, "event": "run-finished", "run_id": run["id"], "status": final, "rc": rc},
    )
    return final
