"""Per-source crawl locks in the archive: one crawl per source, stale locks taken over."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest

from common.dates import utcnow
from newsvault.sitesrv import LocalSite
from storage.repository import Archive
from storage.runlog import RunLog, pid_alive
from tests.services import rows, sql


@pytest.fixture
def archive(database_url: str) -> Iterator[Archive]:
    a = Archive.open(database_url)
    yield a
    a.close()


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a live process that is not this one."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def test_a_held_lock_keeps_others_out_until_released(archive: Archive, live_pid: int) -> None:
    holder = RunLog(archive, pid=live_pid)
    me = RunLog(archive)
    assert holder.acquire("gazette", stale_after=300) is None
    held = me.acquire("gazette", stale_after=300)
    assert held is not None and held.pid == live_pid
    assert f"pid {live_pid} on " in held.describe()
    assert me.acquire("other-source", stale_after=300) is None, "locks are per source"
    assert me.release("gazette") is False, "only the holder releases"
    assert holder.release("gazette") is True
    assert me.acquire("gazette", stale_after=300) is None
    assert me.holder("gazette") is not None and me.holder("gazette").pid == os.getpid()  # type: ignore[union-attr]


def test_a_dead_holder_on_this_host_is_taken_over_and_its_run_interrupted(
    archive: Archive,
) -> None:
    pid = dead_pid()
    ghost = RunLog(archive, pid=pid)
    assert ghost.acquire("gazette", stale_after=300) is None
    run_id = archive.start_run("gazette", "schedule", pid=pid)
    me = RunLog(archive)
    assert me.acquire("gazette", stale_after=300) is None
    run = archive.runs("gazette")[0]
    assert (run["id"], run["status"]) == (run_id, "interrupted")
    assert run["finished_at"] is not None


def test_another_hosts_lock_goes_stale_only_when_its_heartbeat_stops(
    archive: Archive, database_url: str
) -> None:
    other = RunLog(archive, pid=1, hostname="elsewhere.example")
    me = RunLog(archive)
    assert other.acquire("gazette", stale_after=300) is None
    assert me.acquire("gazette", stale_after=300) is not None, "a pid elsewhere is not checked"
    assert other.heartbeat("gazette") is True
    old = (utcnow() - timedelta(seconds=600)).replace(tzinfo=None).isoformat(" ")
    with sql(database_url) as con:
        con.execute("UPDATE locks SET heartbeat_at = ?", (old,))
    assert me.acquire("gazette", stale_after=300) is None
    assert other.heartbeat("gazette") is False, "the old holder learns it lost the lock"


def test_manual_crawl_skips_a_source_another_crawl_holds(
    site: LocalSite,
    write_config,
    cli,
    archive: Archive,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([{"name": "gazette", "feeds": [site.url("/feed.xml")]}])
    mine = RunLog(archive)  # this test process plays the crawl that holds the lock
    assert mine.acquire("gazette", stale_after=300) is None
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert f"gazette: skipped, already being crawled by pid {os.getpid()}" in proc.stderr
    assert site.requests == [], "a skipped source is not fetched at all"
    run = archive.runs("gazette")[0]
    assert (run["status"], run["trigger"]) == ("skipped", "manual")
    assert str(os.getpid()) in run["message"]

    mine.release("gazette")
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in archive.runs("gazette")] == ["ok", "skipped"]
    assert mine.holder("gazette") is None, "the crawl gave its lock back"


HEARTBEAT_PROBE = """
import sys
import newsvault.locks as locks
from common.config import load_config
from newsvault.crawl import run_crawl
from storage.runlog import RunLog

locks.SourceLocks.__init__.__kwdefaults__ = {"heartbeat": 0.05, "stale_after": 300.0}
beats = []
real = RunLog.heartbeat
RunLog.heartbeat = lambda self, source: beats.append(source) or real(self, source)
config = load_config(__import__("pathlib").Path(sys.argv[1]))
[result] = run_crawl(config, config.sources, progress_interval=0)
print(result.status, len(beats), sorted(set(beats)))
"""


@pytest.mark.slow
def test_a_running_crawl_keeps_its_lock_fresh(
    site: LocalSite,
    write_config,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([{"name": "gazette", "sitemaps": [site.url("/sitemap_index.xml")]}])
    proc = subprocess.run(
        [sys.executable, "-c", HEARTBEAT_PROBE, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    status, beats, sources = proc.stdout.strip().split(maxsplit=2)
    assert status == "ok" and int(beats) >= 2 and sources == "['gazette']", proc.stdout
    assert rows(database_url, "SELECT count(*) FROM locks") == [(0,)], "released at the end"
