"""``newsvault daemon`` as a real child process, on a seconds schedule, against a local site.

The site can hold article pages back (``GatedSite``) so that "a run is still going" is a state the
test controls, not a race it hopes to win. The daemon logs JSON lines to a file the test reads;
the runs table is read straight from the archive (SQLite, then PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.exc import SQLAlchemyError

from common.dates import utcnow
from newsvault.sitesrv import LocalSite
from storage.repository import Archive
from tests.conftest import ROOT
from tests.services import rows as archive_rows
from tests.services import sql

pytestmark = pytest.mark.slow

EVERY_2S = "*/2 * * * * *"


class GatedSite(LocalSite):
    """A local site whose pages in ``held`` are not answered until ``gate`` is set."""

    def __init__(self, root: Path, held: set[str]) -> None:
        self.gate = threading.Event()
        self.held = held
        self.asked: list[str] = []
        super().__init__(root)

    def resolve(self, raw_path: str) -> tuple[bytes, str] | None:
        path = urlsplit(raw_path).path
        with self._lock:
            self.asked.append(path)
        if path in self.held:
            self.gate.wait(timeout=60)
        return super().resolve(raw_path)


@pytest.fixture
def gated(manifest: dict[str, Any]) -> Iterator[Callable[..., GatedSite]]:
    """``gated()`` holds every article page; ``gated({paths})`` holds those."""
    from newsvault.demo import DEMO_SITE

    sites: list[GatedSite] = []

    def make(held: set[str] | None = None) -> GatedSite:
        s = GatedSite(DEMO_SITE, set(manifest["articles"]) if held is None else held)
        sites.append(s)
        return s

    yield make
    for s in sites:
        s.gate.set()
        s.close()


def rows(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    try:
        return archive_rows(url, query, *args)
    except SQLAlchemyError:
        return []  # not created yet


class Daemon:
    """A running ``newsvault daemon`` with its JSON log file and its archive."""

    def __init__(self, config: Path, db: str, tmp: Path) -> None:
        self.db = db
        self.log_path = tmp / "daemon.log"
        self.err_path = tmp / "daemon.stderr"
        self.config = config
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "newsvault",
                    "daemon",
                    "--config",
                    str(config),
                    "--log-format",
                    "json",
                    "--log-file",
                    str(self.log_path),
                ],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.wait_for(lambda: self.events("plan"), "the daemon to log its plan")

    def events(self, event: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = [json.loads(line) for line in lines if line.strip()]
        return [
            e
            for e in out
            if (event is None or e["event"] == event) and (source is None or e["source"] == source)
        ]

    def runs(self, source: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, source, trigger, status, pid, articles_new, articles_unchanged, message"
        sql += " FROM runs" + (" WHERE source = ?" if source else "") + " ORDER BY id"
        keys = ("id", "source", "trigger", "status", "pid", "new", "unchanged", "message")
        return [
            dict(zip(keys, r, strict=True))
            for r in rows(self.db, sql, *([source] if source else []))
        ]

    def wait_for(self, pred: Callable[[], Any], what: str, timeout: float = 40) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = pred()
            if got:
                return got
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        log = self.log_path.read_text() if self.log_path.exists() else ""
        err = self.err_path.read_text()
        pytest.fail(
            f"timed out waiting for {what}\nrc={self.proc.poll()}\n{log[-4000:]}\n{err[-2000:]}"
        )

    def stop(self, timeout: float = 40) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def start_daemon(
    tmp_path: Path, database_url: str, write_config
) -> Iterator[Callable[..., Daemon]]:  # type: ignore[no-untyped-def]
    started: list[Daemon] = []

    def start(
        sources: list[dict[str, Any]], daemon: dict[str, Any] | None = None, **crawl: Any
    ) -> Daemon:
        config = write_daemon_config(write_config, sources, daemon, **crawl)
        d = Daemon(config, database_url, tmp_path)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def write_daemon_config(
    write_config,
    sources: list[dict[str, Any]],
    daemon: dict[str, Any] | None = None,
    **crawl: Any,  # type: ignore[no-untyped-def]
) -> Path:
    path: Path = write_config(sources, **crawl)
    data = yaml.safe_load(path.read_text())
    data["daemon"] = {"progress_interval": 1, "kill_after": 5, **(daemon or {})}
    path.write_text(yaml.safe_dump(data))
    return path


def finished(d: Daemon, n: int, status: str = "ok", source: str | None = None) -> Callable[[], Any]:
    return lambda: len([r for r in d.runs(source) if r["status"] == status]) >= n


def test_runs_on_schedule_each_recorded_each_article_stored_once(
    site: LocalSite,
    start_daemon,
    database_url: str,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    d = start_daemon([{"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": EVERY_2S}])
    second = cli("daemon", "--config", str(d.config), timeout=60)
    assert second.returncode == 1, "one daemon per archive"
    assert f"another newsvault daemon is running against this archive: pid {d.proc.pid}" in (
        second.stderr
    )
    d.wait_for(finished(d, 2), "two finished runs")
    status = cli("status", "--config", str(d.config), timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"daemon: running, pid {d.proc.pid}" in status.stderr  # a note: stderr when piped
    assert d.stop() == 0
    assert "daemon: not running" in cli("status", "--config", str(d.config)).stderr
    runs = [r for r in d.runs() if r["status"] != "skipped"]
    assert all(r["trigger"] == "schedule" for r in runs)
    # the second run finds the same articles again (re-checked or not yet due): nothing new
    assert [(r["status"], r["new"]) for r in runs[:2]] == [("ok", 4), ("ok", 0)]
    assert rows(database_url, "SELECT count(*), count(DISTINCT url) FROM articles") == [(4, 4)]
    assert rows(database_url, "SELECT count(*) FROM locks") == [(0,)]
    started = d.events("run-started", "gazette")
    assert len(started) >= 2 and all(e["pid"] for e in started)
    done = d.events("run-finished", "gazette")
    assert done[0]["status"] == "ok" and "new 4" in done[0]["message"]
    output = d.events("output", "gazette")
    assert output, "the children's progress lines reach the log"
    noisy = [e["message"] for e in output if e["level"] != "info" or "Warning" in e["message"]]
    assert noisy == [], "a normal run's child prints no warning (runpy, Scrapy deprecations)"
    assert d.events("stopped")


def test_an_overlapping_run_is_skipped_by_the_daemon_and_by_a_manual_crawl(
    gated,
    start_daemon,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    site = gated()  # the first run hangs on its article pages until the gate opens
    d = start_daemon([{"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": EVERY_2S}])
    d.wait_for(lambda: d.events("run-skipped", "gazette"), "the daemon to skip an overlapping run")
    [first] = d.wait_for(
        lambda: [r for r in d.runs() if r["status"] == "running"], "the held run's record"
    )

    proc = cli("crawl", "--config", str(d.config), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"skipped, already being crawled by pid {first['pid']}" in proc.stderr

    site.gate.set()
    d.wait_for(finished(d, 1), "the held run to finish")
    assert d.stop() == 0
    runs = d.runs()
    held = next(r for r in runs if r["id"] == first["id"])
    assert held["status"] == "ok" and held["new"] == 4
    skipped = [(r["trigger"], r["message"]) for r in runs if r["status"] == "skipped"]
    assert any(t == "manual" for t, _ in skipped)
    assert any(t == "schedule" and "still going" in (m or "") for t, m in skipped)
    running_at_once = [r for r in runs if r["status"] == "running"]
    assert running_at_once == []


def test_sigterm_mid_crawl_exits_0_with_the_pages_so_far_stored_and_the_run_stopped(
    gated,
    start_daemon,
    database_url: str,
    manifest: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    # The sitemap index leads to three sitemaps. Held: two of them (their articles are not known
    # yet at SIGTERM) and one article of the first (in flight at SIGTERM).
    in_flight = "/2026/11/christmas-market/"
    site = gated({"/sitemap-news.xml", "/sitemap-archive.xml.gz", in_flight})
    d = start_daemon(
        [{"name": "gazette", "sitemaps": [site.url("/sitemap_index.xml")], "schedule": EVERY_2S}]
    )
    d.wait_for(lambda: in_flight in site.asked, "the held article to be in flight")
    d.wait_for(lambda: rows(database_url, "SELECT count(*) FROM articles")[0][0] >= 3, "3 articles")
    d.proc.send_signal(signal.SIGTERM)
    d.wait_for(lambda: d.events("run-stopping", "gazette"), "the daemon to stop its crawl")
    time.sleep(1)  # let the crawl act on its SIGTERM before the held responses arrive
    site.gate.set()
    assert d.proc.wait(timeout=40) == 0
    stored = {urlsplit(r[0]).path for r in rows(database_url, "SELECT url FROM articles")}
    posts = {p for p, a in manifest["articles"].items() if "sitemap-posts" in a["listed_in"]}
    assert in_flight in stored, "the page in flight at SIGTERM was written"
    assert stored == posts, "what the late sitemaps list was not fetched after SIGTERM"
    assert not any(p in site.asked for p in set(manifest["articles"]) - posts)
    [run] = [r for r in d.runs() if r["status"] != "skipped"]
    assert (run["status"], run["new"]) == ("stopped", len(posts))
    assert rows(database_url, "SELECT count(*) FROM locks") == [(0,)]
    assert any("pages" in e["message"] for e in d.events("output", "gazette")), "progress lines"


def test_a_crashed_run_is_recorded_failed_and_the_next_run_still_happens(
    gated,
    start_daemon,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    site = gated()
    d = start_daemon([{"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": EVERY_2S}])
    running = d.wait_for(
        lambda: [r for r in d.runs() if r["status"] == "running" and site.asked],
        "a run fetching articles",
    )
    os.kill(running[0]["pid"], signal.SIGKILL)  # the crawl dies as if the OOM killer took it
    d.wait_for(finished(d, 1, "failed"), "the killed run to be recorded as failed")
    site.gate.set()
    d.wait_for(finished(d, 1, "ok"), "the next scheduled run")
    assert d.stop() == 0
    runs = [r for r in d.runs() if r["status"] != "skipped"]
    assert runs[0]["id"] == running[0]["id"]
    assert runs[0]["status"] == "failed" and "killed by SIGKILL" in runs[0]["message"]
    assert any(r["status"] == "ok" for r in runs[1:])
    assert rows(database_url, "SELECT count(*) FROM locks") == [(0,)]


def test_a_run_over_its_time_budget_is_stopped_and_recorded_timed_out(
    gated,
    start_daemon,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    site = gated()  # the crawl hangs on its articles; only the time budget ends it
    # (10 s: time for a crawl to start and reach the held pages on a busy machine; before
    # that, a SIGTERM ends it at once, with nothing held to wait for)
    d = start_daemon(
        [{"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": EVERY_2S}],
        daemon={"run_timeout": 10, "kill_after": 2},
    )
    d.wait_for(lambda: d.events("run-timeout", "gazette"), "the time budget to run out")
    d.wait_for(finished(d, 1, "timed out"), "the run to be recorded as timed out")
    assert d.stop() == 0
    run = [r for r in d.runs() if r["status"] != "skipped"][0]
    assert run["status"] == "timed out" and "time budget of 10 s" in run["message"]
    assert "killed 2 s after SIGTERM" in run["message"], "held pages never came: it was killed"
    assert d.events("run-killed", "gazette")
    assert rows(database_url, "SELECT count(*) FROM locks") == [(0,)]


def test_sighup_reloads_a_good_config_and_refuses_a_broken_one(
    site: LocalSite,
    start_daemon,
    write_config,  # type: ignore[no-untyped-def]
) -> None:
    one = {"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": EVERY_2S}
    d = start_daemon([one])
    d.wait_for(lambda: d.events("run-started"), "a first run")
    good = d.config.read_text()
    d.config.write_text(good.replace(EVERY_2S, "61 * * * *"))  # not a valid minute
    d.proc.send_signal(signal.SIGHUP)
    [refused] = d.wait_for(lambda: d.events("reload-refused"), "the broken config to be refused")
    assert "sources[0].schedule" in refused["message"] and "61" in refused["message"]
    fired = len(d.events("run-started")) + len(d.events("run-skipped"))
    d.wait_for(
        lambda: len(d.events("run-started")) + len(d.events("run-skipped")) > fired,
        "the old schedule to fire again",
    )

    two = {"name": "atom", "feeds": [site.url("/atom.xml")], "schedule": EVERY_2S}
    write_daemon_config(write_config, [one, two])
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda: d.events("reloaded"), "the good config to be loaded")
    d.wait_for(finished(d, 1, source="atom"), "a run of the added source")
    assert d.stop() == 0


def test_missed_run_is_caught_up_once_at_start(
    site: LocalSite,
    start_daemon,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    now = utcnow()
    due = now - timedelta(minutes=10)  # the hourly schedule fired 10 minutes ago, while "down"
    archive = Archive.open(database_url)
    run_id = archive.start_run("gazette", "schedule")
    archive.finish_run(run_id, "ok")
    archive.close()
    old = (now - timedelta(minutes=70)).replace(tzinfo=None).isoformat(" ")
    with sql(database_url) as con:
        con.execute("UPDATE runs SET started_at = ?, finished_at = ?", (old, old))
    schedule = f"{due.minute} * * * *"
    d = start_daemon([{"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": schedule}])
    d.wait_for(finished(d, 2), "the catch-up run")  # the old one and the catch-up
    assert d.stop() == 0
    [catch_up] = d.events("catch-up", "gazette")
    assert f"{due:%H:%M}" in catch_up["message"]
    assert len([r for r in d.runs() if r["status"] == "ok"]) == 2, "one catch-up run, not more"


def test_runs_over_max_parallel_runs_wait_in_a_queue_and_all_complete(
    gated,
    start_daemon,  # type: ignore[no-untyped-def]
) -> None:
    site = gated()  # the first run holds its slot until the gate opens
    feed = [site.url("/feed.xml")]
    d = start_daemon(
        [
            # two lists: one list twice would be written as a YAML alias, which configs refuse
            {"name": "first", "feeds": [*feed], "schedule": "*/30 * * * * *"},
            {"name": "second", "feeds": [*feed], "schedule": "*/30 * * * * *"},
        ],
        daemon={"max_parallel_runs": 1},
    )
    queued = d.wait_for(
        lambda: [r for r in d.runs() if r["status"] == "queued"], "a run to be queued"
    )
    assert len(queued) == 1 and "daemon.max_parallel_runs is 1" in queued[0]["message"]
    assert d.events("run-queued", queued[0]["source"])
    d.wait_for(lambda: [r for r in d.runs() if r["status"] == "running"], "the held run")
    time.sleep(1)
    assert len([r for r in d.runs() if r["status"] == "running"]) == 1, "over the limit"
    assert "waiting" in d.runs(queued[0]["source"])[-1]["message"], "started while held"
    site.gate.set()
    for name in ("first", "second"):
        d.wait_for(
            lambda n=name: [r for r in d.runs(n) if r["status"] in ("ok", "partial")],
            f"{name}'s run to finish",
        )
    assert d.stop() == 0
    [waited] = [r for r in d.runs() if r["id"] == queued[0]["id"]]
    assert waited["status"] == "queued" and "then started (pid " in waited["message"]
    assert d.events("run-started", queued[0]["source"])
