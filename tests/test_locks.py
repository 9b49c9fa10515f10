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


# -- runs of many machines over one archive ----------------------------------------------------


def _age(database_url: str, run_id: int, seconds: float) -> None:
    """Make a run's last sign of life ``seconds`` old, as a heartbeat that stopped."""
    old = (utcnow() - timedelta(seconds=seconds)).replace(tzinfo=None).isoformat(" ")
    with sql(database_url) as con:
        con.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (old, run_id))


def _statuses(archive: Archive) -> dict[int, str]:
    return {r["id"]: r["status"] for r in archive.runs("gazette")}


def test_a_run_of_another_host_is_judged_by_its_heartbeat_not_by_a_pid_here(
    archive: Archive, database_url: str
) -> None:
    """Many machines over one PostgreSQL: the pid of another host's run means nothing here. It
    is alive while its heartbeat is fresh and over once it is older than stale_after; a run of
    this host (or one recorded before hosts were, migration 0010) is over when its pid is."""
    gone = dead_pid()
    theirs = archive.start_run("gazette", "worker", pid=gone, host="elsewhere.example")
    ours = archive.start_run("gazette", "worker", pid=gone)
    legacy = archive.start_run("gazette", "schedule", pid=gone)
    with sql(database_url) as con:
        con.execute("UPDATE runs SET host = NULL, heartbeat_at = NULL WHERE id = ?", (legacy,))
    assert archive.runs("gazette")[-1]["host"] == "elsewhere.example"
    assert archive.close_stale_runs("gazette", stale_after=300) == 2
    assert _statuses(archive) == {theirs: "running", ours: "interrupted", legacy: "interrupted"}
    _age(database_url, theirs, 200)
    assert archive.close_stale_runs("gazette", stale_after=300) == 0
    _age(database_url, theirs, 400)
    assert archive.close_stale_runs("gazette", stale_after=300) == 1
    [run] = [r for r in archive.runs("gazette") if r["id"] == theirs]
    assert (
        run["status"] == "interrupted" and f"process {gone} on elsewhere.example" in run["message"]
    )


def test_a_crawl_taking_its_lock_ends_left_crawl_runs_but_not_live_workers(
    archive: Archive, live_pid: int, database_url: str
) -> None:
    """The lock says no other crawl of the source runs anywhere; workers run without it."""
    worker_here = archive.start_run("gazette", "worker", pid=live_pid)
    worker_there = archive.start_run("gazette", "worker", pid=1, host="elsewhere.example")
    worker_gone = archive.start_run("gazette", "worker", pid=2, host="gone.example")
    _age(database_url, worker_gone, 600)
    crawl_left = archive.start_run("gazette", "schedule", pid=live_pid)  # a reused pid
    assert RunLog(archive).acquire("gazette", stale_after=300) is None
    assert _statuses(archive) == {
        worker_here: "running",
        worker_there: "running",
        worker_gone: "interrupted",
        crawl_left: "interrupted",
    }


def test_running_runs_show_their_last_sign_of_life(archive: Archive, database_url: str) -> None:
    me = RunLog(archive)
    mine = archive.start_run("gazette", "manual", pid=os.getpid())
    other = archive.start_run("gazette", "manual", pid=os.getpid(), host="elsewhere.example")
    for run_id in (mine, other):
        _age(database_url, run_id, 120)
    assert me.touch_runs() == 1, "only our process's runs on this host"
    beats = {r["id"]: utcnow() - r["heartbeat_at"] for r in archive.runs("gazette")}
    assert beats[mine] < timedelta(seconds=60) < beats[other]
    archive.run_heartbeat(other, {"articles_new": 3, "pages_fetched": 4})
    [run] = [r for r in archive.runs("gazette") if r["id"] == other]
    assert (run["articles_new"], run["pages_fetched"], run["status"]) == (3, 4, "running")
    assert utcnow() - run["heartbeat_at"] < timedelta(seconds=60)
