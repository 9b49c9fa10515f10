"""``newsvault daemon`` with a Redis frontier: the daemon seeds on schedule, workers only work.

On the real PostgreSQL and Redis (skipped elsewhere, required under CI=true). A worker runs
beside a daemon whose source is due every 2 seconds; each scheduled run is seeded into the
frontier as a run of its own, so the second run reads the feed again instead of finding it
"seen" by the first, and every run is recorded by the daemon, none started by the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from newsvault.sitesrv import LocalSite
from tests.conftest import ROOT
from tests.services import pg_schema, redis_db

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    except ProgrammingError:  # not migrated yet
        return []
    finally:
        engine.dispose()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsvault", *args],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def test_the_daemon_seeds_each_scheduled_run_and_workers_never_schedule(
    site: LocalSite, manifest: dict[str, Any], tmp_path: Path, procs: list[Any]
) -> None:
    with pg_schema("nv_daemon") as database, redis_db() as frontier:
        config = tmp_path / "config.yaml"
        data = {
            "database": database,
            "frontier": f"{frontier}?visibility=5",
            "crawl": {"allow_private_networks": True, "download_delay": 0},
            "daemon": {"progress_interval": 1, "kill_after": 5},
            "sources": [
                {"name": "gazette", "feeds": [site.url("/feed.xml")], "schedule": "*/2 * * * * *"}
            ],
        }
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        worker_log, daemon_log = tmp_path / "worker.log", tmp_path / "daemon.log"
        worker = _start(["worker", "--config", str(config), "--extract-workers", "0"], worker_log)
        procs.append(worker)
        daemon = _start(["daemon", "--config", str(config)], daemon_log)
        procs.append(daemon)

        sql = "SELECT trigger, status, articles_new FROM runs WHERE source = 'gazette' ORDER BY id"
        deadline = time.monotonic() + 120
        done: list[tuple[Any, ...]] = []
        while time.monotonic() < deadline and daemon.poll() is None:
            done = [r for r in _rows(database, sql) if r[1] == "ok"]
            if len(done) >= 2:
                break
            time.sleep(0.3)
        assert len(done) >= 2, daemon_log.read_text()[-3000:] + worker_log.read_text()[-2000:]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, daemon_log.read_text()[-3000:]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker_log.read_text()[-3000:]

        feed_articles = [p for p in manifest["articles"] if p in site.requests]
        # every run of the source is the daemon's: scheduled (the worker's own row records the
        # worker, not a run it started)
        assert {r[0] for r in _rows(database, sql)} - {"worker"} == {"schedule"}
        # the first run stored the feed's articles, the second found the same ones again
        assert [r[2] for r in done[:2]] == [len(feed_articles), 0]
        assert _rows(database, "SELECT count(*), count(DISTINCT url) FROM articles") == [
            (len(feed_articles), len(feed_articles))
        ]
        # each run read the feed again: its entry point was not deduplicated by the first run's
        # seen set (the articles themselves are not due for a re-check yet)
        assert site.requests.count("/feed.xml") >= len(done) >= 2, site.requests
        for log in (worker_log, daemon_log):
            assert "Traceback" not in log.read_text()
