"""Copy a whole archive into another database (``newsvault copy --to URL``).

Every table of the archive's schema (runs, bodies, articles, fetches, failures, revisions,
aliases, validators, back-off) is copied row for row, keys included, in batches, each batch one
transaction of the target: an interrupted copy keeps what it wrote, and a copy with ``resume``
goes on from there (rows whose key the target holds already are not copied again). Crawl locks
are not copied: they belong to running processes. The search index follows by itself (SQLite's
triggers, PostgreSQL's generated column). On PostgreSQL the id sequences are moved past the
copied ids, so the target takes new articles afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from common.errors import StorageError
from storage.db import open_engine
from storage.models import Base

__all__ = ["CopyResult", "copy_archive"]

_SKIP = {"locks"}
BATCH = 500


@dataclass(frozen=True, slots=True)
class CopyResult:
    copied: dict[str, int]  # table -> rows written by this copy
    kept: dict[str, int]  # table -> rows the target held already (resume)


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in _SKIP]


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def copy_archive(
    source_url: str,
    target_url: str,
    *,
    resume: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyResult:
    """Copy the archive at ``source_url`` into ``target_url`` (created and migrated if needed).

    Raises StorageError if either cannot be opened, or if the target holds rows already and
    ``resume`` is false (nothing is written then)."""
    src = open_engine(source_url, readonly=True)
    try:
        dst = open_engine(target_url)
    except StorageError:
        src.dispose()
        raise
    try:
        return _copy(src, dst, resume=resume, progress=progress)
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise StorageError(f"copy failed: {exc.__class__.__name__}: {detail}") from exc
    finally:
        src.dispose()
        dst.dispose()


def _copy(
    src: Engine,
    dst: Engine,
    *,
    resume: bool,
    progress: Callable[[str, int], None] | None,
) -> CopyResult:
    tables = _tables()
    kept = {t.name: _count(dst, t) for t in tables}
    if any(kept.values()) and not resume:
        held = ", ".join(f"{n}: {c}" for n, c in kept.items() if c)
        raise StorageError(
            f"the target archive is not empty ({held}); "
            "--resume continues an interrupted copy into it"
        )
    copied: dict[str, int] = {}
    for table in tables:
        copied[table.name] = _copy_table(src, dst, table, progress)
    if dst.dialect.name == "postgresql":
        with dst.begin() as conn:
            for table in tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement is not False and _is_int(pk[0]):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'),"
                            f" coalesce((SELECT max({pk[0].name}) FROM {table.name}), 0) + 1,"
                            " false)"
                        )
                    )
    return CopyResult(copied, kept)


def _is_int(column: Any) -> bool:
    try:
        return column.type.python_type is int
    except NotImplementedError:
        return False


def _copy_table(
    src: Engine, dst: Engine, table: Table, progress: Callable[[str, int], None] | None
) -> int:
    pk = list(table.primary_key.columns)
    key = pk[0]
    numeric = len(pk) == 1 and _is_int(key)
    done = 0
    after: Any = None
    if numeric:
        with dst.connect() as conn:
            after = conn.execute(select(func.max(key))).scalar()
    last: Any = None
    while True:
        query = select(table).order_by(*pk).limit(BATCH)
        if numeric and after is not None:
            query = query.where(key > after)
        elif not numeric and last is not None:
            query = query.where(key > last)
        with src.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if not rows:
            return done
        if numeric:
            after = rows[-1][key.name]
        else:
            last = rows[-1][key.name]
            keys = [r[key.name] for r in rows]
            with dst.connect() as conn:
                there = set(conn.execute(select(key).where(key.in_(keys))).scalars())
            rows = [r for r in rows if r[key.name] not in there]
        if rows:
            with dst.begin() as conn:
                conn.execute(table.insert(), rows)
            done += len(rows)
            if progress is not None:
                progress(table.name, done)
