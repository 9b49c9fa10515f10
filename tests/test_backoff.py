"""Storage for "come back later" answers and for runs left behind by a killed process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from crawler.spiders.news import _retry_after
from storage.repository import BACKOFF_BASE, BACKOFF_MAX, Archive, ArticleRecord, FetchRecord


@pytest.fixture
def archive(database_url: str) -> Iterator[Archive]:
    a = Archive.open(database_url)
    yield a
    a.close()


def _due(archive: Archive, url: str) -> float:
    when = archive.waiting_urls("s")[url]
    return (when - datetime.now(UTC)).total_seconds()


def test_retry_after_is_kept_and_back_off_doubles_without_it(archive: Archive) -> None:
    run = archive.start_run("s")
    archive.record_failure(run, "s", "http://a.example/1", "http", "HTTP 503", 503, retry_after=120)
    assert 110 < _due(archive, "http://a.example/1") <= 120
    for attempt in (1, 2, 3):  # no Retry-After: 60 s, 120 s, 240 s ...
        archive.record_failure(run, "s", "http://a.example/2", "http", "429", 429, retry_after=0)
        expected = BACKOFF_BASE * 2 ** (attempt - 1)
        assert expected - 10 < _due(archive, "http://a.example/2") <= expected
    archive.record_failure(run, "s", "http://a.example/3", "http", "HTTP 503", 503, retry_after=1e9)
    assert _due(archive, "http://a.example/3") <= BACKOFF_MAX
    # an ordinary failure puts nothing off; another source's URLs are not this source's
    archive.record_failure(run, "s", "http://a.example/4", "http", "HTTP 404", 404)
    assert set(archive.waiting_urls("s")) == {f"http://a.example/{i}" for i in (1, 2, 3)}
    assert archive.waiting_urls("other") == {}
    assert archive.waiting_urls("s", now=datetime.now(UTC) + timedelta(days=8)) == {}


def test_storing_the_article_ends_its_back_off(archive: Archive) -> None:
    run = archive.start_run("s")
    url = "http://a.example/story"
    archive.record_failure(run, "s", url, "http", "HTTP 429", 429, retry_after=5)
    rec = ArticleRecord(source="s", url=url, text="words " * 40, text_hash="h1")
    fetch = FetchRecord(url=url, fetched_at=datetime.now(UTC), status=200, body=b"<html/>")
    archive.save_article(run, rec, fetch)
    assert archive.waiting_urls("s") == {}


def test_retry_after_header_forms() -> None:
    assert _retry_after(b"120") == 120
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    assert 290 < _retry_after(later.encode()) <= 300
    assert _retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert _retry_after(b"soon") == 0 and _retry_after(None) == 0


def test_stale_runs_of_dead_processes_are_interrupted(archive: Archive) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        killed = archive.start_run("s", pid=dead.pid)
        running = archive.start_run("s", pid=alive.pid)
        other = archive.start_run("t", pid=dead.pid)
        assert archive.close_stale_runs("s") == 1
        status = {r["id"]: (r["status"], r["message"]) for r in archive.runs()}
        assert status[killed][0] == "interrupted" and str(dead.pid) in status[killed][1]
        assert status[running] == ("running", None), "a live crawl's run was touched"
        assert status[other] == ("running", None), "another source's run was touched"
        assert archive.close_stale_runs("s") == 0
    finally:
        alive.kill()
        alive.wait()


def test_check_writable_writes_nothing(archive: Archive) -> None:
    archive.check_writable()
    assert archive.runs() == []
