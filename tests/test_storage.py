"""The archive API on a real SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from common.errors import StorageError
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome
from tests.services import sqlite_only


@pytest.fixture
def archive(database_url: str) -> Iterator[Archive]:
    """An empty archive on SQLite, then on PostgreSQL (the ``database_url`` fixture)."""
    a = Archive.open(database_url)
    yield a
    a.close()


T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def rec(url: str = "https://e.com/a", body: str = "Text one.", title: str = "T") -> ArticleRecord:
    return ArticleRecord(
        source="e", url=url, text=body, text_hash=f"h:{body}", title=title, authors=("A B",)
    )


def fetch(
    url: str = "https://e.com/a", html: bytes = b"<html>1</html>", at: datetime = T0
) -> FetchRecord:
    return FetchRecord(
        url=url, fetched_at=at, status=200, body=html, headers={"Content-Type": "text/html"}
    )


def test_new_unchanged_updated_duplicate(archive: Archive) -> None:
    run = archive.start_run("e")
    assert archive.save_article(run, rec(), fetch()) is Outcome.NEW
    later = T0 + timedelta(hours=1)
    assert archive.save_article(run, rec(), fetch(at=later)) is Outcome.UNCHANGED
    assert (
        archive.save_article(run, rec(body="Text two."), fetch(html=b"<html>2</html>", at=later))
        is Outcome.UPDATED
    )
    assert (
        archive.save_article(
            run, rec(url="https://e.com/b", body="Text two."), fetch("https://e.com/b")
        )
        is Outcome.DUPLICATE
    )
    archive.finish_run(run, "ok", {"articles_new": 1, "articles_updated": 1})
    [art] = list(archive.iter_articles())
    assert art["text"] == "Text two."
    assert art["first_fetched_at"] == T0.isoformat()
    assert art["fetched_at"] == later.isoformat()
    assert art["authors"] == ["A B"]
    [run_row] = archive.runs()
    assert (run_row["status"], run_row["articles_new"], run_row["articles_updated"]) == ("ok", 1, 1)
    assert run_row["finished_at"] is not None


def test_raw_bodies_are_compressed_and_content_addressed(archive: Archive) -> None:
    import hashlib

    html = b"<html>" + b"x" * 10_000 + b"</html>"
    run = archive.start_run("e")
    archive.save_article(run, rec(), fetch(html=html))
    archive.save_article(run, rec(), fetch(html=html, at=T0 + timedelta(hours=1)))
    assert archive.raw_body(hashlib.sha256(html).hexdigest()) == html
    with archive.engine.connect() as con:
        rows = con.execute(text("SELECT size, length(zdata) FROM bodies")).fetchall()
        fetches = con.execute(text("SELECT count(*) FROM fetches")).scalar()
    assert len(rows) == 1 and rows[0][0] == len(html) and rows[0][1] < len(html) / 10
    assert fetches == 2


def test_streaming_filters_by_source(archive: Archive) -> None:
    run = archive.start_run("e")
    for i in range(7):
        archive.save_article(
            run, rec(url=f"https://e.com/{i}", body=f"Body {i}."), fetch(f"https://e.com/{i}")
        )
    other = ArticleRecord(source="f", url="https://f.com/1", text="F.", text_hash="hf")
    archive.save_article(run, other, fetch("https://f.com/1"))
    assert len(list(archive.iter_articles(batch=3))) == 8
    assert {a["source"] for a in archive.iter_articles(("f",))} == {"f"}
    assert archive.count_articles("e") == 7


def test_failures_are_recorded(archive: Archive) -> None:
    run = archive.start_run("e")
    archive.record_failure(run, "e", "https://e.com/x", "http", "HTTP 404", 404)
    [f] = archive.failures(run)
    assert (f["url"], f["kind"], f["status"], f["reason"]) == (
        "https://e.com/x",
        "http",
        404,
        "HTTP 404",
    )


@sqlite_only("WAL and pragmas")
def test_wal_and_pragmas_on_every_sqlite_connection(database_url: str) -> None:
    a = Archive.open(database_url)
    try:
        with a.engine.connect() as con:
            assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert con.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        a.close()


def test_reopening_an_archive_keeps_it(database_url: str) -> None:
    url = database_url
    a = Archive.open(url)
    a.save_article(a.start_run("e"), rec(), fetch())
    a.close()
    b = Archive.open(url)
    try:
        assert b.count_articles() == 1
        with b.engine.connect() as con:
            assert con.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        b.close()


def test_unopenable_archives_raise_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="folder .* does not exist"):
        Archive.open(f"sqlite:///{tmp_path / 'no' / 'such' / 'a.db'}")
    with pytest.raises(StorageError, match="not a database URL"):
        Archive.open("not a url")
    with pytest.raises(StorageError) as info:
        Archive.open("postgresql+psycopg://nv:hunter2@127.0.0.1:1/test")
    assert "hunter2" not in str(info.value)


def test_reading_a_database_without_an_archive_is_one_line(database_url: str) -> None:
    """A read-only command on an empty database (a new PostgreSQL schema) says there is no
    archive there; it neither creates one nor fails with a traceback."""
    with pytest.raises(StorageError, match="no archive at"):
        Archive.open(database_url, readonly=True)


def test_only_http_image_urls_are_read_back(archive: Archive) -> None:
    """issue 20 (5): an archive written before the check may hold a javascript: image URL; the
    API and exports (which read articles as dicts) never hand it out."""
    bad = "javascript:alert(1)"
    rec = ArticleRecord("s", "https://example.org/a", "Text.", "h1", image_url=bad)
    archive.save_article(None, rec, FetchRecord(rec.url, T0, 200, b"<html></html>"))
    (art,) = list(archive.iter_articles())
    assert art["image_url"] is None
