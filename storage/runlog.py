"""Who is crawling what, and how each run ended: per-source locks and run bookkeeping.

A crawl takes its source's row in ``locks`` before it fetches anything and gives it back when it
ends, so two crawls of one source never run at once, whether they come from the daemon or from a
``newsvault crawl`` started by hand, on this machine or another one sharing the database. While
it runs the crawl refreshes the row's ``heartbeat_at``. A lock is stale, and is taken over, when
its process is gone from this host or its heartbeat is older than ``stale_after`` seconds; taking
a lock marks the source's leftover "running" runs (their process died) as "interrupted".

Runs record the host and pid of their process and a ``heartbeat_at`` that the process refreshes
(:meth:`RunLog.touch_runs`, :meth:`RunStore.run_heartbeat`). A "running" run is over when its
process is gone: on its own host that is its pid; of another host (many machines over one
PostgreSQL) nobody here can see its pid, so it is over once its heartbeat is older than
``stale_after`` (:data:`common.runs.STALE_AFTER_SECONDS`, 5 minutes, ten heartbeats). Runs
recorded before migration 0010 have no host and are judged by their pid, as before.

Example::

    log = RunLog(Archive.open("sqlite:///newsvault.db"))
    holder = log.acquire("example-news", stale_after=300)
    if holder is None:
        ...  # ours: crawl, calling log.heartbeat("example-news") now and then
        log.release("example-news")
    else:
        log.record_run("example-news", "manual", "skipped", f"locked by {holder.describe()}")
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.dates import utcnow
from common.errors import StorageError
from common.runs import COUNTERS, FINISHED, STALE_AFTER_SECONDS, SUCCESS
from storage.base import ArchiveBase, explain
from storage.failures import describe_reasons, top_reasons
from storage.models import Failure, Lock, Run

__all__ = [
    "WORKER",
    "LockHolder",
    "RunLog",
    "RunStore",
    "SourceHistory",
    "WorkerState",
    "pid_alive",
    "run_dict",
]

#: the trigger of a ``newsvault worker``'s runs
WORKER = "worker"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The process that holds a source's lock."""

    source: str
    pid: int
    hostname: str
    acquired_at: datetime
    heartbeat_at: datetime

    def describe(self) -> str:
        return f"pid {self.pid} on {self.hostname} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC"


@dataclass(slots=True)
class WorkerState:
    """A ``newsvault worker`` process as its running runs show it."""

    host: str | None
    pid: int | None
    started_at: datetime
    last_active: datetime
    sources: list[str]


@dataclass(frozen=True, slots=True)
class SourceHistory:
    """What the runs table says about one source (each run as a :func:`run_dict`)."""

    source: str
    last: dict[str, Any] | None = None
    last_finished: dict[str, Any] | None = None
    last_success: dict[str, Any] | None = None
    first_started: datetime | None = None


def run_dict(r: Run) -> dict[str, Any]:
    """A run as a plain dict: its columns, counters included."""
    return {
        "id": r.id,
        "source": r.source,
        "trigger": r.trigger,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "status": r.status,
        "pid": r.pid,
        "host": r.host,
        "heartbeat_at": r.heartbeat_at,
        "message": r.message,
        **{n: getattr(r, n) for n in COUNTERS},
    }


def run_alive(r: Run, now: datetime, host: str, stale_after: float) -> bool:
    """Whether the process of a "running" run may still be at work: on this host (or with no
    host recorded) its pid exists; on another host its heartbeat is younger than
    ``stale_after`` seconds."""
    if r.host is None or r.host == host:
        return r.pid is not None and pid_alive(r.pid)
    last = r.heartbeat_at or r.started_at
    return now - last <= timedelta(seconds=stale_after)


def interrupt_runs(
    s: Session,
    source: str,
    now: datetime,
    *,
    keep_pid: int | None,
    host: str,
    stale_after: float = STALE_AFTER_SECONDS,
) -> int:
    """Mark ``source``'s runs left "running" by a process that no longer exists "interrupted"
    (it was killed, or the machine stopped); return how many. With ``keep_pid`` (a crawl that
    runs without holding the source's lock), runs of live processes (:func:`run_alive`) and of
    ``keep_pid`` on ``host`` are left alone; without it (the caller holds the lock, so no other
    crawl of the source runs anywhere), every running run is over but workers' live ones."""
    stale = []
    for r in s.scalars(select(Run).where(Run.source == source, Run.status == "running")):
        if keep_pid is None and r.trigger != WORKER:
            stale.append(r)
        elif not (r.pid == keep_pid and r.host in (None, host)) and not run_alive(
            r, now, host, stale_after
        ):
            stale.append(r)
    for r in stale:
        r.status = "interrupted"
        r.finished_at = now
        who = f"process {r.pid}" if r.pid is not None else "its crawl process"
        where = f" on {r.host}" if r.host and r.host != host else ""
        r.message = f"{who}{where} ended before the run finished (killed or crashed)"
    return len(stale)


def _holder(row: Lock) -> LockHolder:
    return LockHolder(row.source, row.pid, row.hostname, row.acquired_at, row.heartbeat_at)


class RunLog:
    """Locks and run records of one archive, on behalf of process ``pid`` on ``hostname``.

    Raises StorageError when the archive cannot be written.
    """

    def __init__(
        self, archive: ArchiveBase, *, pid: int | None = None, hostname: str | None = None
    ) -> None:
        self.archive = archive
        self.pid = pid if pid is not None else os.getpid()
        self.hostname = hostname or socket.gethostname()

    # -- locks ---------------------------------------------------------------------------------

    def _stale(self, row: Lock, now: datetime, stale_after: float) -> bool:
        if row.hostname == self.hostname and (row.pid == self.pid or not pid_alive(row.pid)):
            return True
        return now - row.heartbeat_at > timedelta(seconds=stale_after)

    def acquire(self, source: str, *, stale_after: float) -> LockHolder | None:
        """Take ``source``'s lock. None when we hold it now; else the live process holding it.

        Taking it marks the source's runs still "running" (left by dead processes) "interrupted".
        """

        def fn(s: Session) -> LockHolder | None:
            now = utcnow()
            row = s.get(Lock, source)
            mine = {"pid": self.pid, "hostname": self.hostname}
            if row is None:
                s.add(Lock(source=source, acquired_at=now, heartbeat_at=now, **mine))
            elif not self._stale(row, now, stale_after):
                return _holder(row)
            else:
                took = s.execute(
                    update(Lock)
                    .where(
                        Lock.source == source,
                        Lock.pid == row.pid,
                        Lock.hostname == row.hostname,
                        Lock.heartbeat_at == row.heartbeat_at,
                    )
                    .values(acquired_at=now, heartbeat_at=now, **mine)
                    .execution_options(synchronize_session=False)
                )
                if took.rowcount != 1:  # type: ignore[attr-defined]
                    fresh = s.get(Lock, source, populate_existing=True)
                    return _holder(fresh) if fresh is not None else None
            interrupt_runs(s, source, now, keep_pid=None, host=self.hostname)
            s.flush()
            return None

        return self.archive.write(fn)

    def heartbeat(self, source: str) -> bool:
        """Refresh our lock on ``source``; False when it is no longer ours (taken as stale)."""

        def fn(s: Session) -> bool:
            res = s.execute(
                update(Lock)
                .where(Lock.source == source, Lock.pid == self.pid, Lock.hostname == self.hostname)
                .values(heartbeat_at=utcnow())
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

        return self.archive.write(fn)

    def touch_runs(self) -> int:
        """Refresh the heartbeat of every run our process has "running"; returns how many."""

        def fn(s: Session) -> int:
            res = s.execute(
                update(Run)
                .where(Run.status == "running", Run.pid == self.pid, Run.host == self.hostname)
                .values(heartbeat_at=utcnow())
            )
            return int(res.rowcount)  # type: ignore[attr-defined]

        return self.archive.write(fn)

    def release(self, source: str, *, pid: int | None = None) -> bool:
        """Give back ``source``'s lock if process ``pid`` (default: ours) on this host holds it."""
        owner = self.pid if pid is None else pid

        def fn(s: Session) -> bool:
            res = s.execute(
                delete(Lock).where(
                    Lock.source == source, Lock.pid == owner, Lock.hostname == self.hostname
                )
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

        return self.archive.write(fn)

    def holder(self, source: str) -> LockHolder | None:
        """Who holds ``source``'s lock, if anyone. Raises StorageError if it cannot be read."""
        try:
            with Session(self.archive.engine) as s:
                row = s.get(Lock, source)
                return _holder(row) if row is not None else None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's locks: {explain(exc)}") from exc

    # -- runs ----------------------------------------------------------------------------------

    def record_run(
        self, source: str, trigger: str, status: str, message: str, *, pid: int | None = None
    ) -> int:
        """Insert a run that is already over (a skipped run, or one whose process never began)."""

        def fn(s: Session) -> int:
            now = utcnow()
            run = Run(
                source=source,
                trigger=trigger,
                started_at=now,
                finished_at=now,
                status=status,
                pid=pid,
                host=self.hostname,
                heartbeat_at=now,
                message=message,
                **{n: 0 for n in COUNTERS},
            )
            s.add(run)
            s.flush()
            return run.id

        return self.archive.write(fn)

    def run_of_process(self, source: str, pid: int, since: datetime) -> dict[str, Any] | None:
        """The newest run of ``source`` that process ``pid`` started at or after ``since``."""
        try:
            return self._run_of_process(source, pid, since)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's runs: {explain(exc)}") from exc

    def _run_of_process(self, source: str, pid: int, since: datetime) -> dict[str, Any] | None:
        with Session(self.archive.engine) as s:
            q = (
                select(Run)
                .where(Run.source == source, Run.pid == pid, Run.started_at >= since)
                .order_by(Run.id.desc())
                .limit(1)
            )
            run = s.scalars(q).first()
            return run_dict(run) if run is not None else None

    def settle_run(self, run_id: int, status: str, message: str) -> None:
        """Give a run its final status and message, keeping its counts."""
        now = utcnow()

        def fn(s: Session) -> None:
            run = s.get(Run, run_id)
            if run is not None:
                run.status = status
                run.message = message
                run.finished_at = run.finished_at or now

        self.archive.write(fn)

    def history(self, source: str) -> SourceHistory:
        """The source's latest run, latest finished run, latest successful run, first start.

        Raises StorageError if the runs cannot be read.
        """
        try:
            return self._history(source)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's runs: {explain(exc)}") from exc

    def _history(self, source: str) -> SourceHistory:
        with Session(self.archive.engine) as s:
            # a source's history is its crawls': a worker's runs are its share of them
            newest = (
                select(Run)
                .where(Run.source == source, Run.trigger != WORKER)
                .order_by(Run.id.desc())
                .limit(1)
            )
            last = s.scalars(newest).first()
            finished = s.scalars(newest.where(Run.status.in_(FINISHED))).first()
            success = s.scalars(newest.where(Run.status.in_(SUCCESS))).first()
            first = s.scalar(
                select(func.min(Run.started_at)).where(Run.source == source, Run.trigger != WORKER)
            )
            return SourceHistory(
                source=source,
                last=run_dict(last) if last else None,
                last_finished=run_dict(finished) if finished else None,
                last_success=run_dict(success) if success else None,
                first_started=first,
            )


class RunStore(ArchiveBase):
    """Starting, finishing and listing runs."""

    def start_run(
        self,
        source: str,
        trigger: str = "manual",
        pid: int | None = None,
        host: str | None = None,
    ) -> int:
        """Record a run that starts now, by process ``pid`` on ``host`` (default: this one)."""

        def fn(s: Session) -> int:
            now = utcnow()
            run = Run(
                source=source,
                trigger=trigger,
                started_at=now,
                heartbeat_at=now,
                status="running",
                pid=pid,
                host=host or socket.gethostname(),
            )
            for name in COUNTERS:
                setattr(run, name, 0)
            s.add(run)
            s.flush()
            return run.id

        return self.write(fn)

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: Mapping[str, int] | None = None,
        message: str | None = None,
    ) -> None:
        """Give a run its end: status, counts and a message. Without a message, a run with
        recorded failures gets its most frequent reasons (``5 failed: HTTP 404 (3), ...``)."""
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": message}
        for name in COUNTERS:
            if counts and name in counts:
                values[name] = int(counts[name])

        def fn(s: Session) -> None:
            if message is None:
                total = s.scalar(select(func.count(Failure.id)).where(Failure.run_id == run_id))
                if total:
                    values["message"] = describe_reasons(top_reasons(s, run_id), total)
            s.execute(update(Run).where(Run.id == run_id).values(**values))

        self.write(fn)

    def run_heartbeat(self, run_id: int, counts: Mapping[str, int] | None = None) -> None:
        """A running run's sign of life, with its counts so far (a worker's, which may run for
        days). Raises StorageError when the archive cannot be written."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        values.update({n: int(counts[n]) for n in COUNTERS if counts and n in counts})
        self.write(
            lambda s: s.execute(
                update(Run).where(Run.id == run_id, Run.status == "running").values(**values)
            )
        )

    def close_stale_runs(
        self, source: str, *, stale_after: float = STALE_AFTER_SECONDS, host: str | None = None
    ) -> int:
        """Mark runs of ``source`` left "running" by a process that no longer exists as
        "interrupted"; return how many. Runs whose process may still be alive (another crawl or
        a worker: :func:`run_alive`) are left alone. Raises StorageError when the archive
        cannot be written."""
        here = host or socket.gethostname()
        return self.write(
            lambda s: interrupt_runs(
                s, source, utcnow(), keep_pid=os.getpid(), host=here, stale_after=stale_after
            )
        )

    def workers(self) -> list[WorkerState]:
        """The worker processes with runs "running", one per host and pid, last active first."""
        with Session(self.engine) as s:
            q = select(Run).where(Run.status == "running", Run.trigger == WORKER)
            found: dict[tuple[str | None, int | None], WorkerState] = {}
            for r in s.scalars(q.order_by(Run.id)):
                key = (r.host, r.pid)
                last = r.heartbeat_at or r.started_at
                w = found.setdefault(key, WorkerState(r.host, r.pid, r.started_at, last, []))
                w.sources.append(r.source)
                w.last_active = max(w.last_active, last)
            return sorted(found.values(), key=lambda w: w.last_active, reverse=True)

    def runs(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The newest runs (of one source), newest first."""
        with Session(self.engine) as s:
            q = select(Run).order_by(Run.id.desc()).limit(limit)
            if source:
                q = q.where(Run.source == source)
            return [run_dict(r) for r in s.scalars(q)]

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run, or None."""
        with Session(self.engine) as s:
            r = s.get(Run, run_id)
            return run_dict(r) if r is not None else None
