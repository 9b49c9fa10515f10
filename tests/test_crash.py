"""kill -9 of a crawl at random moments never corrupts or loses the archive.

A crawl of a 40-article local site is killed with SIGKILL (its whole process group, extraction
workers included) at a random moment, again and again, on SQLite and on PostgreSQL. After every
kill the database passes SQLite's ``PRAGMA integrity_check`` and ``foreign_key_check``, every
article stored before is still there unchanged, nothing is stored twice; a final clean run
completes the archive and marks the killed runs "interrupted".
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from tests.conftest import ROOT
from tests.faultsrv import FaultServer, install_news_site
from tests.services import has_archive, rows, sql

pytestmark = pytest.mark.slow

KILLS = 22
PAGES = 40


@pytest.fixture
def news_site() -> Iterator[tuple[FaultServer, list[str]]]:
    with FaultServer() as srv:
        yield srv, install_news_site(srv, PAGES, delay=0.05)


def snapshot(url: str) -> dict[str, tuple[str, str, str]]:
    """url -> (text_hash, body sha256, text) of every stored article, checking integrity."""
    if not has_archive(url):
        return {}
    with sql(url) as con:
        if url.startswith("sqlite"):  # PostgreSQL checks foreign keys on every write
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        if not inspect(con.conn).has_table("articles"):
            return {}  # killed while the schema was being created: nothing stored yet
        dup_text = con.execute(
            "SELECT text_hash FROM articles GROUP BY source, text_hash HAVING count(*) > 1"
        ).fetchall()
        assert dup_text == [], "an article was stored twice"
        orphans = con.execute(
            "SELECT count(*) FROM fetches f LEFT JOIN bodies b ON b.sha256 = f.body_sha256"
            " WHERE b.sha256 IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        rows = con.execute("SELECT url, text_hash, body_sha256, text FROM articles").fetchall()
    urls = [r[0] for r in rows]
    assert len(urls) == len(set(urls)), "a URL was stored twice"
    return {url: (h, b, t) for url, h, b, t in rows}


def start_crawl(config: Path, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def test_sigkill_at_random_moments_never_loses_or_corrupts(
    news_site: tuple[FaultServer, list[str]],
    write_config: Any,
    cli: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    srv, paths = news_site
    source = {"name": "news", "feeds": [srv.url("/feed.xml")], "article_urls": ["/news/"]}
    config = write_config([source], concurrency_per_domain=2)
    seed = int(os.environ.get("CRASH_SEED", time.time()))
    rng = random.Random(seed)
    before: dict[str, tuple[str, str, str]] = {}
    killed = mid_crawl = 0
    while killed < KILLS:
        log = (tmp_path / f"crawl{killed}.log").open("ab")
        proc = start_crawl(config, log)
        log.close()
        while_fetching = killed % 2 == 0
        if not while_fetching:
            # any moment, start-up and migrations included
            time.sleep(rng.uniform(0.3, 2.0))
        else:
            # a moment while it fetches and stores (start-up time varies with the machine's load)
            seen = len(srv.hits)
            deadline = time.monotonic() + 60
            while len(srv.hits) == seen and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
            mid_crawl += while_fetching
        code = proc.wait()
        assert code in (0, -signal.SIGKILL), f"seed {seed}: a crawl failed by itself ({code})"
        after = snapshot(database_url)
        lost = {u: v for u, v in before.items() if after.get(u) != v}
        assert not lost, f"seed {seed}: lost or changed after kill {killed}: {sorted(lost)}"
        before = after

    proc = cli("crawl", "--config", str(config), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = snapshot(database_url)
    why = f"seed {seed}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert set(final) == {srv.url(p) for p in paths}, why
    assert all(final[u] == v for u, v in before.items())
    statuses = [s for (s,) in rows(database_url, "SELECT status FROM runs ORDER BY id")]
    assert "running" not in statuses, "a killed run was left 'running'"
    assert statuses[-1] == "ok"
    assert statuses.count("interrupted") >= mid_crawl, f"seed {seed}: {statuses}"
