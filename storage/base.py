"""The engine of one archive and its one way to write: a short transaction, retried while
another writer holds the lock.

:class:`ArchiveBase` is what every part of the archive's API shares (:mod:`storage.articles`,
:mod:`storage.runlog`, :mod:`storage.failures`, :mod:`storage.incremental`,
:mod:`storage.reading`); :class:`storage.repository.Archive` puts the parts together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from common.errors import StorageError
from common.fingerprint import MAX_BAND_DISTANCE
from storage.db import open_engine
from storage.models import Run

__all__ = ["ArchiveBase", "explain"]

T = TypeVar("T")
A = TypeVar("A", bound="ArchiveBase")

_WHY = (
    ("readonly", "the archive file or its folder is read-only"),
    ("disk is full", "the disk is full"),
    ("disk i/o error", "the disk is full or the file cannot be written"),
    ("unable to open", "the archive file cannot be opened"),
)


def explain(exc: SQLAlchemyError) -> str:
    """The database's own message (its first line: never the SQL statement), with what it
    most likely means for the user."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    for needle, why in _WHY:
        if needle in text.lower():
            return f"{text} ({why})"
    return text


class ArchiveBase:
    """One archive database: its engine, and transactions on it."""

    def __init__(
        self, engine: Engine, *, near_duplicate_distance: int | None = MAX_BAND_DISTANCE
    ) -> None:
        self.engine = engine
        self.near_duplicate_distance = near_duplicate_distance

    @classmethod
    def open(
        cls: type[A],
        url: str,
        *,
        readonly: bool = False,
        near_duplicate_distance: int | None = MAX_BAND_DISTANCE,
    ) -> A:
        """Open (creating and migrating if needed) the archive at a SQLAlchemy URL.

        ``near_duplicate_distance``: a new article whose text simhash is within this many bits
        of an article of the same source is recorded as its alias (None: exact text only).
        Raises StorageError when the archive cannot be opened or migrated."""
        engine = open_engine(url, migrate_schema=not readonly, readonly=readonly)
        return cls(engine, near_duplicate_distance=near_duplicate_distance)

    def close(self) -> None:
        self.engine.dispose()

    def check_writable(self) -> None:
        """Raise StorageError now if the archive cannot be written (a read-only file, folder or
        database), so a crawl stops before fetching anything. Writes nothing."""
        try:
            with self.engine.connect() as conn, conn.begin() as tx:
                # SQLite takes the write lock here (BEGIN IMMEDIATE); any database refuses an
                # UPDATE when it is read-only, even one that matches no row.
                conn.execute(update(Run).where(Run.id == -1).values(status="running"))
                tx.rollback()
        except OperationalError as exc:
            raise StorageError(f"cannot write to the archive: {explain(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot write to the archive: {exc}") from exc

    def write(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in one transaction, retrying when another writer holds the lock.

        Raises StorageError when the archive cannot be written; an IntegrityError that a retry
        does not cure is raised as it is (the caller decides what refused data means)."""
        delay = 0.05
        for attempt in range(attempts):
            try:
                with Session(self.engine) as session, session.begin():
                    return fn(session)
            except OperationalError as exc:
                locked = "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
                if not locked or attempt == attempts - 1:
                    raise StorageError(f"cannot write to the archive: {explain(exc)}") from exc
                time.sleep(delay)
                delay *= 2
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                # a concurrent writer inserted the same row first: retry sees it
            except SQLAlchemyError as exc:
                raise StorageError(f"cannot write to the archive: {exc}") from exc
        raise AssertionError("unreachable")
