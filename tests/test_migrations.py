"""Migrations create exactly the schema the models describe, and re-running them is harmless."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import open_engine
from storage.models import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        with engine.connect() as con:
            ctx = MigrationContext.configure(con, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        # The full-text index is created by migrations on purpose and models don't describe it
        # (SQLite: FTS5 tables; PostgreSQL: the generated search_vector column and its index),
        # so only other differences that touch model tables count.
        model_tables = set(Base.metadata.tables)
        relevant = [
            d
            for d in diff
            if (_table_of(d) in model_tables or _table_of(d) is None) and not _full_text_index(d)
        ]
        assert relevant == [], relevant
    finally:
        engine.dispose()


def _full_text_index(diff: object) -> bool:
    item = diff[0] if isinstance(diff, list) else diff
    return isinstance(item, tuple) and any(
        getattr(part, "name", None) in ("search_vector", "ix_articles_search_vector")
        for part in item[1:]
    )


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


def test_opening_twice_runs_no_migration_again(database_url: str) -> None:
    url = database_url
    open_engine(url).dispose()
    engine = open_engine(url)
    try:
        with engine.connect() as con:
            versions = con.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
        assert len(versions) == 1
    finally:
        engine.dispose()


VERSIONS = Path(__file__).resolve().parents[1] / "storage" / "migrations" / "versions"
OURS = {"common", "crawler", "pipeline", "storage", "newsvault"}


def _imported_packages(path: Path) -> set[str]:
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_migrations_never_import_live_code() -> None:
    """What a migration writes must not change when the code it once called does."""
    files = sorted(VERSIONS.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        assert not _imported_packages(path) & OURS, f"{path.name} imports live code"


def test_the_frozen_simhash_of_migration_0002_equals_the_live_one() -> None:
    """When this fails the live simhash changed: stored simhashes (backfilled by 0002, written
    by every crawl since) need a new migration that recomputes them."""
    import importlib.util
    import random

    from common.fingerprint import simhash, simhash_bands

    spec = importlib.util.spec_from_file_location("m0002", VERSIONS / "0002_incremental.py")
    assert spec is not None and spec.loader is not None
    m0002 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0002)
    rng = random.Random(2)
    words = "the harbour council voted 12 comments updated 5 minutes ago rain Straße ß 3.2".split()
    texts = [" ".join(rng.choices(words, k=rng.randint(1, 400))) for _ in range(200)]
    texts += ["", "short text", "Just now: " + "word " * 60]
    for text in texts:
        assert m0002.simhash_0002(text) == simhash(text), text
        value = simhash(text)
        if value is not None:
            assert m0002.bands_0002(value) == simhash_bands(value)
