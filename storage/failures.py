"""Failures and back-off: what could not be archived and why, and the URLs a server asked us
to leave alone for a while (HTTP 429/503)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.dates import utcnow
from storage.base import ArchiveBase
from storage.models import Backoff, Failure

__all__ = ["BACKOFF_BASE", "BACKOFF_MAX", "FailureStore", "describe_reasons", "top_reasons"]

#: Back-off after a 429/503 without Retry-After: BASE seconds, doubled per refusal in a row.
BACKOFF_BASE = 60.0
#: The longest any URL is put off (also caps a server's Retry-After).
BACKOFF_MAX = 7 * 86400.0


def _put_off(
    s: Session, source: str, url: str, reason: str, retry_after: float, now: datetime
) -> None:
    row = s.get(Backoff, url)
    attempts = (row.attempts + 1) if row is not None else 1
    delay = retry_after if retry_after > 0 else BACKOFF_BASE * 2 ** (attempts - 1)
    not_before = now + timedelta(seconds=min(delay, BACKOFF_MAX))
    if row is None:
        s.add(Backoff(url=url, source=source, not_before=not_before, attempts=1, reason=reason))
    else:
        row.not_before, row.attempts, row.reason = not_before, attempts, reason


def top_reasons(s: Session, run_id: int, top: int = 3) -> list[tuple[str, int]]:
    """The ``top`` most frequent failure reasons of a run, with how often each occurred."""
    n = func.count(Failure.id)
    q = (
        select(Failure.reason, n)
        .where(Failure.run_id == run_id)
        .group_by(Failure.reason)
        .order_by(n.desc(), Failure.reason)
        .limit(top)
    )
    return [(reason, int(count)) for reason, count in s.execute(q)]


def describe_reasons(reasons: list[tuple[str, int]], total: int) -> str:
    """``5 failed: HTTP 404 (3), connection refused (2)``: a run's failures in one line."""
    shown = ", ".join(f"{reason[:120]} ({n})" for reason, n in reasons)
    more = total - sum(n for _, n in reasons)
    return f"{total} failed: {shown}" + (f", other ({more})" if more > 0 else "")


class FailureStore(ArchiveBase):
    """Recording failures and back-off, and reading them."""

    def record_failure(
        self,
        run_id: int | None,
        source: str,
        url: str,
        kind: str,
        reason: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Record that ``url`` could not be archived, and why.

        ``retry_after`` (seconds; 0 when the server gave no Retry-After) marks a "come back
        later" answer (HTTP 429/503): the URL is then put off, in the same transaction, until
        the server's time or, without one, an exponential back-off (see :meth:`waiting_urls`).
        Raises StorageError when the archive cannot be written.
        """

        def fn(s: Session) -> None:
            now = utcnow()
            s.add(
                Failure(
                    run_id=run_id,
                    source=source,
                    url=url,
                    at=now,
                    kind=kind,
                    status=status,
                    reason=reason[:2000],
                )
            )
            if retry_after is not None:
                _put_off(s, source, url, reason, retry_after, now)

        self.write(fn)

    def waiting_urls(self, source: str, now: datetime | None = None) -> dict[str, datetime]:
        """URLs of ``source`` that must not be fetched yet, with the time they are due."""
        now = now or utcnow()
        with Session(self.engine) as s:
            q = select(Backoff.url, Backoff.not_before).where(Backoff.source == source)
            return {url: due for url, due in s.execute(q) if due > now}

    def failures(
        self, run_id: int | None = None, limit: int = 100, *, source: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest failures (of one run, of one source), newest first."""
        with Session(self.engine) as s:
            q = select(Failure).order_by(Failure.id.desc()).limit(limit)
            if run_id is not None:
                q = q.where(Failure.run_id == run_id)
            if source is not None:
                q = q.where(Failure.source == source)
            return [
                {
                    "id": f.id,
                    "run_id": f.run_id,
                    "url": f.url,
                    "source": f.source,
                    "kind": f.kind,
                    "status": f.status,
                    "reason": f.reason,
                    "at": f.at,
                }
                for f in s.scalars(q)
            ]

    def failure_reasons(self, run_id: int, top: int = 3) -> list[tuple[str, int]]:
        """The ``top`` most frequent failure reasons of run ``run_id``, with their counts."""
        with Session(self.engine) as s:
            return top_reasons(s, run_id, top)
