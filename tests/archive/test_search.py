"""Full-text search in the storage layer: index kept in sync, backfill, ranking, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from storage.db import _alembic_config, migrate, open_engine
from storage.repository import Archive, ArticleRecord, FetchRecord
from storage.search import MARK_END, MARK_START, QuerySyntaxError, SearchQuery, search
from tests.services import pg_schema, sqlite_only

AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ARTICLES = [
    ("a", "Harbour dredging starts", "The harbour will be dredged in January.", "2026-11-20", "en"),
    ("a", "Council budget", "The council spoke about the harbour once.", "2026-11-10", "en"),
    ("b", "Hafenfest", "Der Hafen feiert mit der Partnerstadt.", "2026-11-16", "de"),
    ("b", "Ferry timetable", "Ferries to the island change in winter.", None, "en-GB"),
]


def _save(
    archive: Archive, i: int, source: str, title: str, body: str, pub: str | None, lang: str
) -> None:
    rec = ArticleRecord(
        source=source,
        url=f"https://example.org/{i}",
        text=body,
        text_hash=f"h{i}",
        title=title,
        published_at=pub,
        language=lang,
    )
    archive.save_article(None, rec, FetchRecord(rec.url, AT, 200, body.encode()))


def _fill(archive: Archive) -> None:
    for i, row in enumerate(ARTICLES):
        _save(archive, i, *row)


def _fill_at_0001(engine: Any) -> None:
    """Rows as an archive made by the first release holds them (its columns only)."""
    from sqlalchemy import text as sql

    with engine.begin() as con:
        for i, (source, title, body, pub, lang) in enumerate(ARTICLES):
            con.execute(
                sql(
                    "INSERT INTO articles (source, url, title, authors, published_at, language,"
                    " tags, text, text_hash, first_fetched_at, last_fetched_at, last_changed_at)"
                    " VALUES (:s, :u, :t, '[]', :p, :l, '[]', :x, :h, :at, :at, :at)"
                ),
                {
                    "s": source,
                    "u": f"https://example.org/{i}",
                    "t": title,
                    "p": pub,
                    "l": lang,
                    "x": body,
                    "h": f"h{i}",
                    "at": "2026-11-29 10:00:00",
                },
            )


def _titles(archive: Archive, query: str, **kw: object) -> list[str | None]:
    return [h.title for h in search(archive.engine, SearchQuery(query, **kw))]  # type: ignore[arg-type]


def _behaves(archive: Archive) -> None:
    assert _titles(archive, "harbour") == ["Harbour dredging starts", "Council budget"]
    assert _titles(archive, "harbour", sources=("b",)) == []
    assert _titles(archive, "harbour", since=date(2026, 11, 15)) == ["Harbour dredging starts"]
    assert _titles(archive, "harbour", until=date(2026, 11, 10)) == ["Council budget"]
    assert _titles(archive, "ferries", language="en") == ["Ferry timetable"]
    assert _titles(archive, "ferries", language="de") == []
    assert _titles(archive, "harbour", limit=1) == ["Harbour dredging starts"]
    hit = search(archive.engine, SearchQuery("dredged"))[0]
    assert f"{MARK_START}dredged{MARK_END}" in hit.snippet
    assert _titles(archive, "nothing-like-this") == []
    with pytest.raises(QuerySyntaxError):
        search(archive.engine, SearchQuery("   "))


@pytest.fixture
def sqlite_archive(database_url: str) -> Iterator[Archive]:
    """The archive of a test of SQLite's own search (FTS5): marked ``@sqlite_only``."""
    archive = Archive.open(database_url)
    yield archive
    archive.close()


@pytest.fixture
def any_archive(database_url: str) -> Iterator[Archive]:
    archive = Archive.open(database_url)
    yield archive
    archive.close()


@sqlite_only("FTS5")
def test_sqlite_search_ranks_filters_and_marks(sqlite_archive: Archive) -> None:
    _fill(sqlite_archive)
    _behaves(sqlite_archive)
    # not valid FTS5 syntax: read as literal words (issue 20)
    assert _titles(sqlite_archive, '"harbour') == ["Harbour dredging starts", "Council budget"]


@sqlite_only("FTS5 query syntax")
@pytest.mark.parametrize(
    ("query", "titles"),
    [
        # "ferries-to": "no such column: to" as FTS5; as words, the phrase "ferries to"
        ("dredged OR ferries-to", ["Harbour dredging starts", "Ferry timetable"]),
        ("council-spoke OR winter", ["Council budget", "Ferry timetable"]),
        ("harbour (", ["Harbour dredging starts", "Council budget"]),
        ("dredged <", ["Harbour dredging starts"]),  # "<": no letters, no term
        ("(january)", ["Harbour dredging starts"]),
        ("harb* AND NOT", ["Harbour dredging starts", "Council budget"]),
    ],
)
def test_a_query_that_is_not_fts_syntax_is_read_as_literal_words(
    sqlite_archive: Archive, query: str, titles: list[str]
) -> None:
    _fill(sqlite_archive)
    assert sorted(t or "" for t in _titles(sqlite_archive, query)) == sorted(titles)


@pytest.mark.parametrize("query", ["*", "(", "^", "OR", "x" * 10_000 + " (", "( " * 5000])
def test_search_messages_are_short(any_archive: Archive, query: str) -> None:
    _fill(any_archive)
    try:
        hits = search(any_archive.engine, SearchQuery(query))
    except QuerySyntaxError as exc:
        assert len(str(exc)) < 300, str(exc)
    else:
        assert hits == []


@sqlite_only("FTS5 external content index")
def test_sqlite_index_follows_updates_and_deletes(sqlite_archive: Archive) -> None:
    _fill(sqlite_archive)
    rec = ArticleRecord(
        source="a",
        url="https://example.org/0",
        text="Now about lighthouses.",
        text_hash="new",
        title="Lighthouse",
    )
    sqlite_archive.save_article(None, rec, FetchRecord(rec.url, AT, 200, b"x"))
    assert _titles(sqlite_archive, "lighthouses") == ["Lighthouse"]
    assert _titles(sqlite_archive, "dredged") == []
    with sqlite_archive.engine.begin() as conn:
        conn.execute(text("DELETE FROM fetches"))
        conn.execute(text("DELETE FROM articles WHERE url = 'https://example.org/0'"))
    assert _titles(sqlite_archive, "lighthouses") == []
    with sqlite_archive.engine.connect() as conn:
        check = "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        conn.execute(text(check))  # raises if the external-content index drifted


@sqlite_only("FTS5 backfill")  # PostgreSQL: test_postgres_migration_backfills_existing_articles
def test_migration_backfills_articles_stored_before_it(database_url: str) -> None:
    engine = create_engine(database_url)
    command.upgrade(_alembic_config(engine), "0001")
    archive = Archive(engine)
    _fill_at_0001(engine)
    migrate(engine)
    _behaves(archive)
    engine.dispose()


@sqlite_only("mode=ro")  # PostgreSQL: test_postgres_readonly_archive_cannot_write
def test_readonly_archive_searches_and_cannot_write(database_url: str) -> None:
    url = database_url
    writer = Archive.open(url)
    _fill(writer)
    reader = Archive.open(url, readonly=True)
    try:
        assert _titles(reader, "harbour")[0] == "Harbour dredging starts"
        with pytest.raises(Exception, match="readonly"):
            reader.start_run("a")
    finally:
        reader.close()
        writer.close()


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema of the real PostgreSQL (tests/services.py)."""
    with pg_schema("nv_search") as url:
        yield url


def test_postgres_search_ranks_filters_and_marks(pg_url: str) -> None:
    archive = Archive(open_engine(pg_url))
    try:
        _fill(archive)
        _behaves(archive)
        # web-search syntax never fails to parse: quotes, or, -word
        assert _titles(archive, '"harbour will be dredged"') == ["Harbour dredging starts"]
        assert _titles(archive, "harbour -dredged") == ["Council budget"]
        assert _titles(archive, '"unbalanced') == []
    finally:
        archive.close()


def test_postgres_migration_backfills_existing_articles(pg_url: str) -> None:
    engine = create_engine(pg_url)
    command.upgrade(_alembic_config(engine), "0001")
    archive = Archive(engine)
    try:
        _fill_at_0001(engine)
        migrate(engine)
        _behaves(archive)
    finally:
        archive.close()


@pytest.mark.slow
def test_postgres_crawl_then_search_through_the_cli(pg_url: str, site, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    import yaml

    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": pg_url,
                "crawl": {"allow_private_networks": True, "download_delay": 0},
                "sources": [{"name": "gazette", "feeds": [site.url("/feed.xml")]}],
            }
        )
    )
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    proc = cli("search", "--config", str(config), "--json", "harbour dredging")
    assert proc.returncode == 0, proc.stderr
    hits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert hits[0]["url"] == site.url("/2026/11/harbour-dredging/")
    assert "[dredg" in hits[0]["snippet_marked"] or "[harbour]" in hits[0]["snippet_marked"]
    stats = json.loads(cli("stats", "--config", str(config), "--json").stdout)
    assert stats["sources"][0]["articles"] == 4 and stats["database_bytes"] > 0


def test_postgres_readonly_archive_cannot_write(pg_url: str) -> None:
    Archive(open_engine(pg_url)).close()
    reader = Archive.open(pg_url, readonly=True)
    try:
        assert reader.count_articles() == 0
        with pytest.raises(Exception, match="read-only"):
            reader.start_run("a")
    finally:
        reader.close()
