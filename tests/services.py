"""The real PostgreSQL and Redis of the test machine (127.0.0.1), for the tests that need them,
and the tests' one way to look at an archive's rows on either database.

Elsewhere those tests skip with the reason; under ``CI=true`` a missing server fails them.
Each PostgreSQL user gets a fresh schema of the ``test`` database (:func:`pg_schema`); each
Redis user gets a database number nobody else uses, flushed afterwards (:func:`redis_db`).
Every test that uses an archive runs on SQLite and on PostgreSQL (the ``database_url``
fixture); one about SQLite itself (its file, locking, WAL, ``mode=ro``) says so with
:func:`sqlite_only`. :func:`sql` and :func:`rows` read and change rows on both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "PG_URL",
    "REDIS_URL",
    "pg_base",
    "pg_schema",
    "redis_db",
    "rows",
    "sql",
    "sqlite_only",
    "has_archive",
]

PG_URL = os.environ.get("NEWSVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSVAULT_TEST_REDIS", "redis://127.0.0.1:6379")


def _unavailable(what: str, exc: BaseException) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true: {exc}")
    pytest.skip(f"{what} not available: {exc}")


def pg_base() -> str:
    """The server's URL, or skip (fail under CI) when it cannot be reached."""
    from sqlalchemy import create_engine, text

    try:
        import psycopg  # noqa: F401

        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # no driver or no server
        _unavailable(f"PostgreSQL at {PG_URL}", exc)
    return PG_URL


@contextmanager
def pg_schema(prefix: str = "nv") -> Iterator[str]:
    """A URL whose search path is a new, empty schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    base = pg_base()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def redis_db() -> Iterator[str]:
    """The URL of a Redis database (1-15) nobody else uses now, empty, flushed afterwards."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        _unavailable(f"Redis at {REDIS_URL}", exc)
    for db in range(1, 16):
        c = redis.Redis.from_url(f"{REDIS_URL}/{db}")
        if c.set("newsvault-test:claimed", str(os.getpid()), nx=True, ex=3600):
            try:
                yield f"{REDIS_URL}/{db}"
            finally:
                c.flushdb()
                c.close()
            return
        c.close()
    pytest.skip("no free Redis database (1-15)")


def sqlite_only(why: str) -> pytest.MarkDecorator:
    """Run a test that uses ``database_url`` (or ``write_config``) on SQLite alone, because it is
    about SQLite itself; ``why`` (a few words) shows in the test's id: ``[sqlite-only:why]``."""
    param = pytest.param("sqlite", id=f"sqlite-only:{why.replace(' ', '-')}")
    return pytest.mark.parametrize("database_url", [param], indirect=True)


class _Sql:
    """A connection taking SQLite's ``?`` placeholders on either database."""

    def __init__(self, conn: Any, pg: bool) -> None:
        self.conn, self.pg = conn, pg

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.exec_driver_sql(query.replace("?", "%s") if self.pg else query, params)


@contextmanager
def sql(url: str) -> Iterator[_Sql]:
    """One transaction on the archive at ``url``, for a test to look at or change rows."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield _Sql(conn, engine.dialect.name == "postgresql")
    finally:
        engine.dispose()


def rows(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query (``?`` placeholders) on the archive at ``url``, as tuples."""
    with sql(url) as con:
        return [tuple(r) for r in con.execute(query, params)]


def has_archive(url: str) -> bool:
    """Whether anything made an archive at ``url``: the SQLite file, or tables in the schema."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").exists()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()
