"""Migrations create exactly the schema the models describe, and re-running them is harmless."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import open_engine
from storage.models import Base


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with engine.connect() as con:
            ctx = MigrationContext.configure(con, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        # FTS shadow tables and the like are created by migrations on purpose; models don't
        # describe them, so only differences that touch model tables count.
        model_tables = set(Base.metadata.tables)
        relevant = [d for d in diff if _table_of(d) in model_tables or _table_of(d) is None]
        assert relevant == [], relevant
    finally:
        engine.dispose()


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    if not isinstance(item, tuple):
        return None
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str):
            return part
        if name and hasattr(part, "columns"):
            return str(name)
    return None


def test_opening_twice_runs_no_migration_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_engine(url).dispose()
    engine = open_engine(url)
    try:
        with engine.connect() as con:
            versions = con.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
        assert len(versions) == 1
    finally:
        engine.dispose()
