"""The archive is a plain SQLite file that Datasette reads: its search finds the full-text index
of ``articles`` (migration 0006), and lists such as authors read as plain JSON arrays."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from storage.db import open_engine
from storage.models import Article

datasette_app = pytest.importorskip("datasette.app", reason="Datasette is a test dependency")

MIGRATIONS = Path(__file__).resolve().parents[1] / "storage" / "migrations"


def _at_0005(path: Path) -> None:
    """An archive as revision 0005 left it: content='articles', lists with escaped non-ASCII."""
    from alembic import command
    from alembic.config import Config

    engine = open_engine(f"sqlite:///{path}", migrate_schema=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "0005")
    engine.dispose()
    now = datetime(2026, 11, 20, tzinfo=UTC).isoformat(" ")
    with sqlite3.connect(path) as con:
        assert (
            "content='articles'"
            in con.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[
                0
            ]
        )
        con.execute(
            "INSERT INTO articles (source, url, title, authors, tags, text, text_hash,"
            " first_fetched_at, last_fetched_at, last_changed_at, revision_count)"
            " VALUES ('gazette', 'http://127.0.0.1/a', 'Harbour dredging', :authors, :tags,"
            " 'The harbour will be dredged in January.', 'h1', :now, :now, :now, 1)",
            {
                "authors": json.dumps(["José Ñúñez"]),  # escaped, as SQLAlchemy wrote it
                "tags": json.dumps(["harbour", "Ålesund"]),
                "now": now,
            },
        )


def _get(path: Path, url: str) -> Any:
    async def get() -> Any:
        ds = datasette_app.Datasette([str(path)])
        response = await ds.client.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(get())


def test_datasette_searches_a_migrated_archive_and_reads_its_lists(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    _at_0005(path)
    open_engine(f"sqlite:///{path}").dispose()  # migrates to the head

    async def fts_table() -> Any:
        ds = datasette_app.Datasette([str(path)])
        return await ds.get_database("archive").fts_table("articles")

    assert asyncio.run(fts_table()) == "articles_fts"
    rows = _get(path, "/archive/articles.json?_search=dredged&_shape=array")
    assert [r["title"] for r in rows] == ["Harbour dredging"]
    assert rows[0]["authors"] == '["José Ñúñez"]'  # a readable JSON array, not "Jos\u00e9"
    assert json.loads(rows[0]["tags"]) == ["harbour", "Ålesund"]
    assert _get(path, "/archive/articles.json?_search=nothingsuch&_shape=array") == []


def test_new_articles_are_written_as_readable_json_and_found(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    engine = open_engine(f"sqlite:///{path}")
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add(
            Article(
                source="gazette",
                url="http://127.0.0.1/b",
                title="Lifeboat appeal",
                authors=["Zoë Brontë"],
                tags=[],
                text="The lifeboat station needs volunteers.",
                text_hash="h2",
                first_fetched_at=now,
                last_fetched_at=now,
                last_changed_at=now,
            )
        )
    engine.dispose()
    rows = _get(path, "/archive/articles.json?_search=volunteers&_shape=array")
    assert [(r["title"], r["authors"]) for r in rows] == [("Lifeboat appeal", '["Zoë Brontë"]')]
    assert _get(path, "/archive/articles.json?_search=nothingsuch&_shape=array") == []
