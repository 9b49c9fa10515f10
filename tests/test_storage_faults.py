"""The archive under stress: two writers and a reader at once, a full disk, a read-only file,
and a database password that must never show in a message.

The full disk is real: the crawl runs with a file-size limit (RLIMIT_FSIZE) just above the
archive's current size, so SQLite's writes fail in the kernel exactly as on a full disk. The
read-only database is real too: ``chattr +i`` makes the file immutable, which even root cannot
write (plain chmod would not stop root, and the tests run as root).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.errors import StorageError
from storage.repository import Archive, ArticleRecord, FetchRecord
from tests.conftest import ROOT
from tests.faultsrv import FaultServer, held_port, install_news_site
from tests.services import rows, sqlite_only

pytestmark = pytest.mark.slow


@pytest.fixture
def news_site() -> Iterator[tuple[FaultServer, list[str]]]:
    with FaultServer() as srv:
        yield srv, install_news_site(srv, 30)


def _articles(db: str) -> dict[str, str]:
    if db.startswith("sqlite"):
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    return dict(rows(db, "SELECT url, text_hash FROM articles"))


def _first_ten(srv: FaultServer, write_config: Any, cli: Any) -> tuple[Path, dict[str, Any]]:
    source = {"name": "news", "feeds": [srv.url("/feed.xml")], "article_urls": ["/story-[0-9]$"]}
    config = write_config([source])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    return config, source


# -- two writers and a reader ------------------------------------------------------------------


def _writer(url: str, name: str, n: int, shared: int) -> None:
    archive = Archive.open(url)
    run = archive.start_run(name)
    now = datetime.now(UTC)
    for i in range(n):
        # the first `shared` URLs are written by both writers: the race on one row
        key = f"https://example.org/shared/{i}" if i < shared else f"https://example.org/{name}/{i}"
        text = f"article {key} " * 30
        rec = ArticleRecord(source=name, url=key, text=text, text_hash=f"{name}-{i}")
        fetch = FetchRecord(url=key, fetched_at=now, status=200, body=text.encode())
        archive.save_article(run, rec, fetch)
        archive.record_failure(run, name, key + "/x", "http", "HTTP 404", 404)
    archive.finish_run(run, "ok", {"articles_new": n})
    archive.close()


def _reader(url: str, rounds: int) -> None:
    archive = Archive.open(url, readonly=True)
    for _ in range(rounds):
        rows = list(archive.iter_articles(batch=50))
        assert len({r["url"] for r in rows}) == len(rows)
        archive.count_articles()
        archive.runs()
    archive.close()


def test_two_writers_and_a_reader_never_see_database_is_locked(database_url: str) -> None:
    url = database_url
    Archive.open(url).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_writer, args=(url, "alpha", 150, 40)),
        ctx.Process(target=_writer, args=(url, "beta", 150, 40)),
        ctx.Process(target=_reader, args=(url, 40)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len(_articles(url)) == 150 + 150 - 40
    assert rows(url, "SELECT count(*) FROM failures") == [(300,)]
    assert rows(url, "SELECT count(*) FROM fetches") == [(300,)]
    assert rows(url, "SELECT status FROM runs") == [("ok",), ("ok",)]


def test_two_crawls_and_an_export_at_once(
    news_site: tuple[FaultServer, list[str]], write_config: Any, database_url: str, tmp_path: Path
) -> None:
    srv, paths = news_site
    sources = [
        {"name": "evens", "feeds": [srv.url("/feed.xml")], "article_urls": [r"[02468]$"]},
        {"name": "odds", "feeds": [srv.url("/feed.xml")], "article_urls": [r"[13579]$"]},
    ]
    config = write_config(sources)
    Archive.open(database_url).close()

    def newsvault(*args: str) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "newsvault", *args, "--config", str(config)]
        pipe = subprocess.PIPE
        return subprocess.Popen(cmd, cwd=ROOT, text=True, stdout=pipe, stderr=pipe)

    crawls = [newsvault("crawl", "--source", "evens"), newsvault("crawl", "--source", "odds")]
    exports = []
    while any(c.poll() is None for c in crawls):
        exports.append(newsvault("export", "-o", str(tmp_path / f"e{len(exports)}.jsonl")))
        exports[-1].wait(60)
    for proc in [*crawls, *exports]:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
    assert exports, "no export ran during the crawls"
    assert set(_articles(database_url)) == {srv.url(p) for p in paths}


# -- a full disk and a read-only file ----------------------------------------------------------


@sqlite_only("full disk is RLIMIT_FSIZE on the file")
def test_full_disk_stops_the_run_with_status_3_and_keeps_what_was_stored(
    news_site: tuple[FaultServer, list[str]],
    write_config: Any,
    cli: Any,
    database_url: str,
    db_path: Path,
) -> None:
    srv, paths = news_site
    config, source = _first_ten(srv, write_config, cli)
    before = _articles(database_url)
    assert len(before) == 10
    source["article_urls"] = ["/news/"]
    config = write_config([source])

    limit = db_path.stat().st_size + 16_384  # room for a page or two, then "disk full"

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "cannot write to the archive" in proc.stderr and "disk" in proc.stderr
    assert "Traceback" not in proc.stderr
    after = _articles(database_url)
    assert all(after.get(u) == h for u, h in before.items()), "an article stored before was lost"

    # with room again, the next run completes the archive and closes the broken run
    again = cli("crawl", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert set(_articles(database_url)) == {srv.url(p) for p in paths}
    statuses = [s for (s,) in rows(database_url, "SELECT status FROM runs ORDER BY id")]
    assert statuses[0] == "ok" and statuses[-1] == "ok" and "running" not in statuses


@sqlite_only("full disk is RLIMIT_FSIZE on the file")
def test_a_crawl_on_a_full_disk_prints_only_its_one_line(
    news_site: tuple[FaultServer, list[str]], write_config: Any, cli: Any, db_path: Path
) -> None:
    """issue 20 (12): the disk fills early (the WAL cannot grow past a size below the
    archive's), a few times over: each time the one line "cannot write to the archive", no
    traceback, no "could not release the crawl lock" or "could not record" before it."""
    srv, _ = news_site
    config, source = _first_ten(srv, write_config, cli)
    source["article_urls"] = ["/news/"]
    config = write_config([source])
    base = db_path.with_suffix(".base")
    shutil.copy(db_path, base)
    for _ in range(3):
        shutil.copy(base, db_path)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        limit = max(db_path.stat().st_size - 20_000, 4096)

        def full_disk(limit: int = limit) -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = subprocess.run(
            [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=full_disk,
        )
        assert proc.returncode == 3, proc.stdout + proc.stderr
        said = [
            line
            for line in proc.stderr.splitlines()
            if "archive" in line or "lock" in line or "Traceback" in line or "Error" in line
        ]
        assert said == [
            "newsvault: cannot write to the archive: disk I/O error "
            "(the disk is full or the file cannot be written)"
        ], proc.stderr


def _immutable(path: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return done.returncode == 0


def test_read_only_archive_stops_before_fetching_with_status_3(
    news_site: tuple[FaultServer, list[str]], write_config: Any, cli: Any, database_url: str
) -> None:
    """SQLite: the file made immutable (``chattr +i``); PostgreSQL: the connection's
    transactions read-only (as on a hot standby, or for a role set read-only)."""
    srv, _ = news_site
    config, _ = _first_ten(srv, write_config, cli)
    before = _articles(database_url)
    fetched = len(srv.hits)
    db = Path(database_url.removeprefix("sqlite:///"))
    if database_url.startswith("postgresql"):
        readonly = database_url + "%20-cdefault_transaction_read_only%3Don"
        config.write_text(config.read_text().replace(database_url, readonly))
    elif not _immutable(db, True):
        if os.environ.get("CI") == "true":
            pytest.fail("chattr +i is needed (Debian package e2fsprogs, an ext4/xfs tmp dir)")
        pytest.skip("chattr +i is not available here (needs e2fsprogs and CAP_LINUX_IMMUTABLE)")
    try:
        proc = cli("crawl", "--config", str(config))
    finally:
        assert database_url.startswith("postgresql") or _immutable(db, False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert len(srv.hits) == fetched, "pages were fetched for an archive that cannot be written"
    assert _articles(database_url) == before


# -- secrets -----------------------------------------------------------------------------------

SECRET = "pa55-W0rd-never-shown"


def test_a_database_password_never_appears_in_an_error() -> None:
    pytest.importorskip("psycopg")
    with held_port() as port, pytest.raises(StorageError) as info:
        Archive.open(f"postgresql+psycopg://newsvault:{SECRET}@127.0.0.1:{port}/test")
    message = str(info.value)
    assert "cannot open the archive" in message and "127.0.0.1" in message
    assert SECRET not in message and SECRET not in repr(info.value)


def test_a_password_from_the_environment_never_reaches_the_output(cli: Any, tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    config = tmp_path / "config.yaml"
    with held_port() as port:
        database = f"postgresql+psycopg://newsvault:${{DB_PASSWORD}}@127.0.0.1:{port}/test"
        source = {"name": "x", "feeds": ["http://127.0.0.1:9/feed.xml"]}
        config.write_text(yaml.safe_dump({"database": database, "sources": [source]}))
        proc = cli("crawl", "--config", str(config), env={"DB_PASSWORD": SECRET})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "cannot open the archive" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
