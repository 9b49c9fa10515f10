"""Who is crawling what, and how each run ended: per-source locks and run bookkeeping.

A crawl takes its source's row in ``locks`` before it fetches anything and gives it back when it
ends, so two crawls of one source never run at once, whether they come from the daemon or from a
``newsvault crawl`` started by hand, on this machine or another one sharing the database. While
it runs the crawl refreshes the row's ``heartbeat_at``. A lock is stale, and is taken over, when
its process is gone from this host or its heartbeat is older than ``stale_after`` seconds; taking
a lock marks the source's leftover "running" runs (their process died) as "interrupted".

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.errors import StorageError
from storage.models import Lock, Run
from storage.repository import RUN_COUNTERS, Archive, utcnow

__all__ = ["FINISHED", "SUCCESS", "LockHolder", "RunLog", "SourceHistory", "pid_alive"]

#: statuses of a run that got going and ended (so not "running" and not "skipped")
FINISHED = ("ok", "partial", "failed", "stopped", "timed out", "interrupted")
#: statuses of a run that archived what it could
SUCCESS = ("ok", "partial")


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


@dataclass(frozen=True, slots=True)
class SourceHistory:
    """What the runs table says about one source (each run as a :meth:`Archive.runs` dict)."""

    source: str
    last: dict[str, Any] | None = None
    last_finished: dict[str, Any] | None = None
    last_success: dict[str, Any] | None = None
    first_started: datetime | None = None


def _run_dict(r: Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "source": r.source,
        "trigger": r.trigger,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "status": r.status,
        "pid": r.pid,
        "message": r.message,
        **{n: getattr(r, n) for n in RUN_COUNTERS},
    }


def _holder(row: Lock) -> LockHolder:
    return LockHolder(row.source, row.pid, row.hostname, row.acquired_at, row.heartbeat_at)


class RunLog:
    """Locks and run records of one archive, on behalf of process ``pid`` on ``hostname``.

    Raises StorageError (from :class:`Archive`) when the archive cannot be written.
    """

    def __init__(
        self, archive: Archive, *, pid: int | None = None, hostname: str | None = None
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
            s.execute(
                update(Run)
                .where(Run.source == source, Run.status == "running")
                .values(
                    status="interrupted",
                    finished_at=now,
                    message="its crawl process ended without recording the end of the run",
                )
                .execution_options(synchronize_session=False)
            )
            s.flush()
            return None

        return self.archive._write(fn)

    def heartbeat(self, source: str) -> bool:
        """Refresh our lock on ``source``; False when it is no longer ours (taken as stale)."""

        def fn(s: Session) -> bool:
            res = s.execute(
                update(Lock)
                .where(Lock.source == source, Lock.pid == self.pid, Lock.hostname == self.hostname)
                .values(heartbeat_at=utcnow())
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

        return self.archive._write(fn)

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

        return self.archive._write(fn)

    def holder(self, source: str) -> LockHolder | None:
        """Who holds ``source``'s lock, if anyone. Raises StorageError if it cannot be read."""
        try:
            with Session(self.archive.engine) as s:
                row = s.get(Lock, source)
                return _holder(row) if row is not None else None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's locks: {exc}") from exc

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
                message=message,
                **{n: 0 for n in RUN_COUNTERS},
            )
            s.add(run)
            s.flush()
            return run.id

        return self.archive._write(fn)

    def run_of_process(self, source: str, pid: int, since: datetime) -> dict[str, Any] | None:
        """The newest run of ``source`` that process ``pid`` started at or after ``since``."""
        try:
            return self._run_of_process(source, pid, since)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's runs: {exc}") from exc

    def _run_of_process(self, source: str, pid: int, since: datetime) -> dict[str, Any] | None:
        with Session(self.archive.engine) as s:
            q = (
                select(Run)
                .where(Run.source == source, Run.pid == pid, Run.started_at >= since)
                .order_by(Run.id.desc())
                .limit(1)
            )
            run = s.scalars(q).first()
            return _run_dict(run) if run is not None else None

    def settle_run(self, run_id: int, status: str, message: str) -> None:
        """Give a run its final status and message, keeping its counts."""
        now = utcnow()

        def fn(s: Session) -> None:
            run = s.get(Run, run_id)
            if run is not None:
                run.status = status
                run.message = message
                run.finished_at = run.finished_at or now

        self.archive._write(fn)

    def history(self, source: str) -> SourceHistory:
        """The source's latest run, latest finished run, latest successful run, first start.

        Raises StorageError if the runs cannot be read.
        """
        try:
            return self._history(source)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the archive's runs: {exc}") from exc

    def _history(self, source: str) -> SourceHistory:
        with Session(self.archive.engine) as s:
            newest = select(Run).where(Run.source == source).order_by(Run.id.desc()).limit(1)
            last = s.scalars(newest).first()
            finished = s.scalars(newest.where(Run.status.in_(FINISHED))).first()
            success = s.scalars(newest.where(Run.status.in_(SUCCESS))).first()
            first = s.scalar(select(func.min(Run.started_at)).where(Run.source == source))
            return SourceHistory(
                source=source,
                last=_run_dict(last) if last else None,
                last_finished=_run_dict(finished) if finished else None,
                last_success=_run_dict(success) if success else None,
                first_started=first,
            )
