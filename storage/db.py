"""Engine set-up and schema migrations.

Every SQLite connection gets WAL, ``foreign_keys`` and ``busy_timeout`` through a connect event,
so two processes (the daemon and a manual crawl, or an export during a crawl) wait for each other
instead of failing with "database is locked". The schema is created and upgraded by Alembic
migrations in ``storage/migrations``, applied automatically by :func:`open_engine`.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from common.dburl import check_database_url, mask_url
from common.errors import StorageError

__all__ = ["BUSY_TIMEOUT_MS", "migrate", "open_engine"]

BUSY_TIMEOUT_MS = 30_000
_MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # pysqlite's own transaction handling is turned off so that BEGIN IMMEDIATE below takes the
    # write lock at the start of each write transaction (no lock upgrades, no deadlocks).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_read(conn: Any) -> None:
    # a reader takes no write lock: it never waits for, nor blocks, a running crawl
    conn.exec_driver_sql("BEGIN")


def _sqlite_readonly_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (a no-op when it is current)."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise StorageError(
            f"cannot migrate the archive: {exc.__class__.__name__}: {detail}"
        ) from exc


def open_engine(url: str, *, migrate_schema: bool = True, readonly: bool = False) -> Engine:
    """Create an engine for ``url`` with newsvault's pragmas, migrating the schema first.

    ``readonly=True``: no migration, and a connection that cannot write (SQLite ``mode=ro``,
    PostgreSQL read-only transactions); raises :class:`StorageError` if the file is missing.

    Example::

        engine = open_engine("sqlite:///newsvault.db")
    """
    try:
        check_database_url(url)
    except ValueError as exc:
        raise StorageError(str(exc)) from None
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        db = parsed.database or ""
        if db and db != ":memory:":
            path = Path(db)
            if readonly:
                if not path.exists():
                    raise StorageError(f"no archive at {path}")
            elif not path.parent.exists():
                raise StorageError(
                    f"cannot create the archive: folder {path.parent} does not exist"
                )
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    if readonly and is_sqlite and parsed.database and parsed.database != ":memory:":
        # the file is opened with mode=ro: nothing through this engine can write to it. In a
        # folder that cannot be written (a read-only volume or snapshot) SQLite cannot create
        # the -shm file a WAL archive needs: the file is then read as immutable (no locking;
        # nothing can be writing to it there)
        path = Path(parsed.database).resolve()
        flags = "mode=ro" if os.access(path.parent, os.W_OK) else "mode=ro&immutable=1"
        parsed = parsed.set(database=f"file:{quote(str(path))}?{flags}", query={"uri": "true"})
    elif readonly and parsed.get_backend_name() == "postgresql":
        given = parsed.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        options = f"{given} -c default_transaction_read_only=on".strip()
        parsed = parsed.update_query_dict({"options": options})
    # lists (authors, tags) as plain UTF-8 JSON, readable as they are in other tools (Datasette)
    kwargs["json_serializer"] = functools.partial(json.dumps, ensure_ascii=False)
    engine = create_engine(parsed, **kwargs)
    if is_sqlite and readonly:
        event.listen(engine, "connect", _sqlite_readonly_pragmas)
        event.listen(engine, "begin", _sqlite_begin_read)
    elif is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        with engine.connect() as conn:
            if is_sqlite and readonly:  # read now: a file that is no database fails here
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master")
            empty = readonly and not is_sqlite and not inspect(conn).has_table("alembic_version")
        if empty:
            engine.dispose()
            # the URL as configured, not with the read-only option added above
            raise StorageError(f"no archive at {mask_url(url)} (no newsvault tables there)")
        if migrate_schema:
            migrate(engine)
    except DBAPIError as exc:  # cannot connect, or the driver refuses an option of the URL
        engine.dispose()
        lines = str(exc.orig).strip().splitlines() or [type(exc).__name__]
        detail = lines[0]
        if parsed.password:
            detail = detail.replace(str(parsed.password), "***")
        raise StorageError(f"cannot open the archive {mask_url(url)}: {detail}") from None
    return engine
