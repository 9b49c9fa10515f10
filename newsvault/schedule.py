"""``newsvault daemon``: every source on its cron schedule, each run a child process.

APScheduler 3 (a ``BackgroundScheduler``) fires one job per source. A firing only starts a child
(:mod:`newsvault.children`); the main thread watches the children: it forwards their output, stops
a run over its time budget, and settles each run in the runs table when its process ends. A
source whose previous run is still going is not started again: the firing is logged and recorded
as a "skipped" run. A crawl started by hand meanwhile is kept out by the source's lock in the
database, which the crawl itself takes.

At most ``daemon.max_parallel_runs`` crawl processes run at once (default: half the cores; each
crawl's extraction pool uses all of them). A run due while that many are going waits in a queue,
first due first started, and says so in the runs table: a "queued" row, whose message tells how
long it waited once it starts. A source already waiting is not queued twice.

Missed runs: at start, a source whose schedule fired since its latest recorded run, within
``daemon.misfire_grace`` seconds, runs once at once (coalesced: one catch-up run however many
firings were missed). While the daemon runs, APScheduler's ``coalesce`` and ``misfire_grace_time``
do the same after a suspend.

Signals: SIGTERM or SIGINT stops firing, sends SIGTERM to the running crawls (they write what they
have and record "stopped"), waits up to ``daemon.kill_after`` seconds, kills what is left and
exits 0; a second SIGTERM/SIGINT kills the running crawls at once. SIGHUP re-reads config.yaml; a
broken file is refused with a log line naming the problem and the running schedule stays.

Example::

    daemon = Daemon(config, RunLog(Archive.open(config.database)), setup_logging("text", None))
    sys.exit(daemon.run())
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from common.config import Config, Source, load_config
from common.cron import parse_cron
from common.dates import utcnow
from common.errors import ConfigError, StorageError
from newsvault.children import CrawlChild, crawl_command, settle
from newsvault.locks import HEARTBEAT_SECONDS, STALE_AFTER_SECONDS
from storage.runlog import RunLog

__all__ = ["DAEMON_LOCK", "Daemon", "missed_fire", "next_fire", "schedule_of"]

_TICK = 0.2
#: the daemon's own row in the locks table (not a valid source name, so never a source's)
DAEMON_LOCK = "(daemon)"


def schedule_of(config: Config, source: Source) -> str:
    return source.schedule or config.daemon.default_schedule


def next_fire(config: Config, source: Source, now: datetime | None = None) -> datetime | None:
    """When the source's schedule fires next (without jitter)."""
    trigger = parse_cron(schedule_of(config, source), config.daemon.timezone)
    return trigger.get_next_fire_time(None, now or utcnow())  # type: ignore[no-any-return]


def missed_fire(
    config: Config, source: Source, last_run: datetime | None, now: datetime
) -> datetime | None:
    """The first firing missed since ``last_run`` and at most ``misfire_grace`` ago, if any.

    A source that has never run has missed nothing.
    """
    if last_run is None:
        return None
    since = max(last_run, now - timedelta(seconds=config.daemon.misfire_grace))
    trigger = parse_cron(schedule_of(config, source), config.daemon.timezone)
    fire: datetime | None = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
    return fire if fire is not None and fire <= now else None


class Daemon:
    """Runs the schedule until SIGTERM/SIGINT. ``config.path`` is re-read on SIGHUP."""

    def __init__(self, config: Config, runlog: RunLog, log: logging.Logger) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.config = config
        self.runlog = runlog
        self.log = log
        self.children: dict[str, CrawlChild] = {}
        # sources waiting for a free slot, in order: their "queued" run's id and when they came
        self.queue: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._stop_signals = 0
        self._reload_requested = False
        self._last_beat = 0.0
        self.scheduler = BackgroundScheduler(
            timezone=config.daemon.timezone,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
        )

    # -- logging -------------------------------------------------------------------------------

    def _event(self, level: int, event: str, source: str | None, msg: str, **extra: Any) -> None:
        self.log.log(level, msg, extra={"event": event, "source": source, **extra})

    # -- the plan ------------------------------------------------------------------------------

    def _plan(self, config: Config, *, catch_up: bool) -> None:
        """Schedule every source of ``config`` (replacing the jobs there were)."""
        d = config.daemon
        now = utcnow()
        self.scheduler.remove_all_jobs()
        for source in config.sources:
            trigger = parse_cron(schedule_of(config, source), d.timezone, jitter=d.jitter)
            first: datetime | None = None
            if catch_up:
                last = self.runlog.history(source.name).last
                missed = missed_fire(config, source, last["started_at"] if last else None, now)
                if missed is not None:
                    first = now
                    self._event(
                        logging.INFO,
                        "catch-up",
                        source.name,
                        f"missed the run due at {missed:%Y-%m-%d %H:%M:%S %Z}: running it now",
                    )
            kwargs: dict[str, Any] = {"next_run_time": first} if first else {}
            self.scheduler.add_job(
                self._fire,
                trigger,
                args=(source.name,),
                id=source.name,
                name=source.name,
                coalesce=True,
                misfire_grace_time=d.misfire_grace,
                max_instances=1,
                replace_existing=True,
                **kwargs,
            )

    def _log_plan(self) -> None:
        """One line per source: its schedule and next run (call with the scheduler running)."""
        config = self.config
        for job in self.scheduler.get_jobs():
            source = config.source(job.id)
            when: datetime | None = job.next_run_time
            self._event(
                logging.INFO,
                "plan",
                source.name,
                f"schedule {schedule_of(config, source)!r} ({config.daemon.timezone}), "
                f"next run {when:%Y-%m-%d %H:%M:%S %Z}"
                if when
                else "no next run",
                next_run=when.isoformat() if when else None,
            )

    # -- firing (scheduler thread) -------------------------------------------------------------

    def _spawn(self, name: str) -> CrawlChild | None:
        """Start the crawl child of ``name`` (call with the lock held); None if it cannot."""
        d = self.config.daemon
        argv = crawl_command(self.config.path or Path("config.yaml"), name, d.progress_interval)
        try:
            child = CrawlChild.spawn(
                argv, name, timeout=d.run_timeout, kill_after=d.kill_after, log=self.log
            )
        except OSError as exc:
            self._event(logging.ERROR, "run-failed", name, f"cannot start a crawl: {exc}")
            return None
        self.children[name] = child
        return child

    def _fire(self, name: str) -> None:
        with self._lock:
            if self._stopping:
                return
            busy = self.children.get(name)
            if busy is None and name in self.queue:
                return  # already waiting for a slot: one run of it will do
            if busy is None and len(self.children) >= self.config.daemon.parallel_runs:
                self._enqueue(name)
                return
            child = self._spawn(name) if busy is None else None
        if busy is None:
            if child is not None:
                self._started(child, "")
            return
        message = f"the previous run (pid {busy.pid}) is still going after {busy.elapsed():.0f} s"
        self._event(logging.WARNING, "run-skipped", name, f"skipped: {message}", pid=busy.pid)
        try:
            self.runlog.record_run(name, "schedule", "skipped", message)
        except StorageError as exc:
            self._event(logging.ERROR, "run-unrecorded", name, f"could not record the skip: {exc}")

    def _started(self, child: CrawlChild, note: str) -> None:
        self._event(
            logging.INFO,
            "run-started",
            child.source,
            f"run started (pid {child.pid}){note}",
            pid=child.pid,
        )

    def _enqueue(self, name: str) -> None:
        """Put ``name`` in the queue and record it as a "queued" run (call with the lock held)."""
        limit = self.config.daemon.parallel_runs
        message = (
            f"waiting: {len(self.children)} crawl(s) running, daemon.max_parallel_runs is "
            f"{limit}; {len(self.queue)} run(s) queued before it"
        )
        run_id: int | None = None
        try:
            run_id = self.runlog.record_run(name, "schedule", "queued", message)
        except StorageError as exc:
            self._event(logging.ERROR, "run-unrecorded", name, f"could not record the queue: {exc}")
        self.queue[name] = (run_id, time.monotonic())
        self._event(logging.INFO, "run-queued", name, f"queued: {message}")

    def _start_queued(self) -> None:
        """Start queued runs, first due first, while there are free slots."""
        started: list[tuple[CrawlChild, int | None, float]] = []
        with self._lock:
            limit = self.config.daemon.parallel_runs
            while self.queue and len(self.children) < limit and not self._stopping:
                name = next(iter(self.queue))
                run_id, since = self.queue.pop(name)
                if name not in self.config.source_names:
                    continue  # removed from the config while it waited
                child = self._spawn(name)
                if child is not None:
                    started.append((child, run_id, time.monotonic() - since))
        for child, run_id, waited in started:
            self._started(child, f" after {waited:.0f} s in the queue")
            if run_id is None:
                continue
            message = f"waited {waited:.0f} s for a free slot, then started (pid {child.pid})"
            try:
                self.runlog.settle_run(run_id, "queued", message)
            except StorageError as exc:
                self._event(
                    logging.ERROR, "run-unrecorded", child.source, f"could not record it: {exc}"
                )

    # -- watching (main thread) ----------------------------------------------------------------

    def _tick(self) -> None:
        with self._lock:
            running = list(self.children.items())
        for name, child in running:
            rc = child.proc.poll()
            if rc is not None:
                child.reap()
                settle(child, rc, self.runlog, self.log)  # before a new run of it may start
                with self._lock:
                    self.children.pop(name, None)
            elif child.over_budget():
                self._event(
                    logging.WARNING,
                    "run-timeout",
                    name,
                    f"over its time budget of {child.timeout:g} s: sending SIGTERM",
                    pid=child.pid,
                )
                child.terminate("timeout")
            elif child.due_for_kill():
                self._event(
                    logging.WARNING,
                    "run-killed",
                    name,
                    f"still running {child.kill_after:g} s after SIGTERM: killing it",
                    pid=child.pid,
                )
                child.kill()
        self._start_queued()

    # -- signals -------------------------------------------------------------------------------

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stop_signals += 1

    def _on_hup(self, signum: int, _frame: FrameType | None) -> None:
        self._reload_requested = True

    def _reload(self) -> None:
        path = self.config.path
        if path is None:
            return
        try:
            new = load_config(path)
            if new.database != self.config.database:
                raise ConfigError(f"{path}: database: changing the archive needs a restart")
            if not new.sources:
                raise ConfigError(f"{path}: sources: no sources configured")
        except ConfigError as exc:
            text = str(exc).replace("\n", "; ")
            self._event(
                logging.ERROR,
                "reload-refused",
                None,
                f"config reload refused, the running schedule stays: {text}",
            )
            return
        with self._lock:
            self.config = new
        self._plan(new, catch_up=False)
        self._event(logging.INFO, "reloaded", None, f"{path} reloaded: {len(new.sources)} sources")
        self._log_plan()

    # -- running -------------------------------------------------------------------------------

    def _beat(self) -> None:
        """Keep the daemon's own lock fresh (so `newsvault status` can tell it is alive)."""
        if time.monotonic() - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = time.monotonic()
        try:
            if not self.runlog.heartbeat(DAEMON_LOCK):
                self._event(logging.ERROR, "lock-lost", None, "the daemon lock was taken over")
        except StorageError as exc:
            self._event(logging.WARNING, "lock-stale", None, f"cannot refresh the lock: {exc}")

    def _loop(self) -> None:
        while not self._stop_signals:
            try:
                if self._reload_requested:
                    self._reload_requested = False
                    self._reload()
                self._tick()
                self._beat()
            except Exception:  # a bug must not orphan the running crawls: log it, go on
                self.log.exception("internal error", extra={"event": "error", "source": None})
            time.sleep(_TICK)

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit status.

        0 after a clean stop; 1 if another daemon is running against the same archive (its
        lock is live). Raises StorageError if the archive cannot be written at start.
        """
        holder = self.runlog.acquire(DAEMON_LOCK, stale_after=STALE_AFTER_SECONDS)
        if holder is not None:
            self._event(
                logging.ERROR,
                "refused",
                None,
                f"another newsvault daemon is running against this archive: {holder.describe()}",
            )
            return 1
        self._last_beat = time.monotonic()
        old = {
            sig: signal.signal(sig, handler)
            for sig, handler in (
                (signal.SIGTERM, self._on_stop),
                (signal.SIGINT, self._on_stop),
                (signal.SIGHUP, self._on_hup),
            )
        }
        try:
            self._event(
                logging.INFO,
                "started",
                None,
                f"newsvault daemon started (pid {os.getpid()}): {len(self.config.sources)} "
                f"sources, config {self.config.path}",
                pid=os.getpid(),
            )
            self._plan(self.config, catch_up=True)
            self.scheduler.start()
            self._log_plan()
            self._loop()
            self._shutdown()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            try:
                self.runlog.release(DAEMON_LOCK)
            except StorageError as exc:
                self._event(logging.WARNING, "lock-stale", None, f"cannot release the lock: {exc}")
        return 0

    def _shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            running = list(self.children.values())
            queued, self.queue = self.queue, {}
        self.scheduler.shutdown(wait=False)
        for name, (run_id, _since) in queued.items():
            if run_id is None:
                continue
            try:
                self.runlog.settle_run(run_id, "skipped", "the daemon stopped before it started")
            except StorageError as exc:
                self._event(logging.ERROR, "run-unrecorded", name, f"could not record it: {exc}")
        self._event(
            logging.INFO,
            "stopping",
            None,
            f"no new runs; asking {len(running)} running crawl(s) to finish",
        )
        for child in running:
            child.terminate("shutdown")
            self._event(
                logging.INFO,
                "run-stopping",
                child.source,
                f"sent SIGTERM to the crawl (pid {child.pid}): it writes what it has and stops",
                pid=child.pid,
            )
        while True:
            with self._lock:
                left = list(self.children.values())
            if not left:
                break
            if self._stop_signals > 1:
                for child in left:
                    if not child.killed:
                        self._event(
                            logging.WARNING,
                            "run-killed",
                            child.source,
                            "second stop signal: killing it now",
                            pid=child.pid,
                        )
                        child.kill()
            self._tick()
            time.sleep(_TICK)
        self._event(logging.INFO, "stopped", None, "no runs left, exiting")
