"""Scale-out on the real PostgreSQL and Redis: ``newsvault worker`` processes and ``newsvault
crawl`` share one frontier and one archive.

A generated site of 2,000 articles (bench/sitegen.py) is served on 127.0.0.1. Two workers (each
in its own process group) and a crawl archive it into one PostgreSQL schema; one worker's whole
process group is SIGKILLed mid-run. Every article must be stored exactly once, and only what the
killed worker had taken may be fetched twice. A second test restarts Redis (its own server, with
an append-only file) mid-run: the processes reconnect and the run completes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from newsvault.sitesrv import LocalSite
from tests.conftest import ROOT
from tests.services import pg_schema, redis_db, rows

sys.path.insert(0, str(ROOT / "bench"))

from sitegen import generate_site, set_base_url  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ARTICLES = 2000
# the frontier gives a dead worker's entries to another after this many seconds
VISIBILITY = 8


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSite, list[str]]]:
    info = generate_site(tmp_path_factory.mktemp("site") / "root", ARTICLES, seed=11)
    with LocalSite(info.root) as site:
        set_base_url(info.root, site.url("/").rstrip("/"))
        yield site, list(info.paths)


def _config(path: Path, database: str, frontier: str, site: LocalSite) -> Path:
    data = {
        "database": database,
        "frontier": f"{frontier}?visibility={VISIBILITY}",
        "crawl": {
            "allow_private_networks": True,
            "download_delay": 0,
            "concurrency_per_domain": 8,
            "obey_robots": False,
        },
        "incremental": {"enabled": False},
        "sources": [{"name": "big", "sitemaps": [site.url("/sitemap_index.xml")]}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _start(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """``newsvault ARGS`` in its own process group (so the test can kill the whole group)."""
    with log.open("wb") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "newsvault", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _articles(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT url FROM articles"))]
    except ProgrammingError:  # not migrated yet
        return []
    finally:
        engine.dispose()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test started: whatever still runs at the end is killed, group and all."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _wait(proc: subprocess.Popen[bytes], timeout: float, log: Path) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"{proc.args} did not finish in {timeout} s:\n{log.read_text()[-3000:]}")


def _check_archive(url: str, site: LocalSite, paths: list[str]) -> Counter[str]:
    stored = _articles(url)
    assert len(stored) == len(set(stored)), "an article was stored twice"
    assert {u.removeprefix(site.url("/").rstrip("/")) for u in stored} == set(paths)
    engine = create_engine(url)
    with engine.connect() as conn:
        revisions = conn.execute(text("SELECT count(*) FROM revisions")).scalar()
    engine.dispose()
    assert revisions == len(paths), "a refetched article became a second revision"
    return Counter(p for p in site.requests if p in set(paths))


def test_two_workers_and_a_crawl_share_the_work_and_survive_a_killed_worker(
    big_site: tuple[LocalSite, list[str]], tmp_path: Path, procs: list[Any]
) -> None:
    site, paths = big_site
    site.requests.clear()
    with pg_schema("nv_scale") as database, redis_db() as frontier:
        config = str(_config(tmp_path / "config.yaml", database, frontier, site))
        # three processes start on an empty schema: they migrate it one after the other
        logs = [tmp_path / f"{n}.log" for n in ("w1", "w2", "crawl")]
        worker_args = ("worker", "--config", config, "--extract-workers", "0")
        victim = _start(*worker_args, log=logs[0])
        survivor = _start(*worker_args, "--exit-when-idle", "4", log=logs[1])
        crawl = _start("crawl", "--config", config, log=logs[2])
        procs += [victim, survivor, crawl]
        deadline = time.monotonic() + 300
        while len(_articles(database)) < ARTICLES // 4:
            assert time.monotonic() < deadline, logs[0].read_text()[-3000:]
            assert victim.poll() is None, logs[0].read_text()[-3000:]
            time.sleep(0.5)
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its extraction processes
        victim.wait()
        assert _wait(crawl, 600, logs[2]) == 0, logs[2].read_text()[-3000:]
        assert _wait(survivor, 120, logs[1]) == 0, logs[1].read_text()[-3000:]
        fetched = _check_archive(database, site, paths)
        twice = [p for p, n in fetched.items() if n > 1]
        # only what the killed worker had taken: its downloads in flight (8) and its buffer (4)
        assert len(twice) <= 12, twice
        assert set(fetched) == set(paths)
        out = logs[1].read_text()
        assert "requests handled" in out and "Traceback" not in out
        handled = int(out.split("worker: ")[-1].split()[0])
        assert handled > 0, "the surviving worker took no part"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Redis:
    """A redis-server of our own, with an append-only file, that the test restarts."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


def test_a_redis_restart_mid_run_loses_nothing(
    big_site: tuple[LocalSite, list[str]], tmp_path: Path, procs: list[Any]
) -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI=true")
        pytest.skip("no redis-server on this machine")
    site, paths = big_site
    site.requests.clear()
    server = _Redis(tmp_path)
    server.start()
    try:
        with pg_schema("nv_restart") as database:
            frontier = f"redis://127.0.0.1:{server.port}/0"
            config = str(_config(tmp_path / "config.yaml", database, frontier, site))
            logs = [tmp_path / f"{n}.log" for n in ("w", "crawl")]
            worker = _start(
                "worker", "--config", config, "--extract-workers", "0", "--exit-when-idle", "4",
                log=logs[0],
            )  # fmt: skip
            crawl = _start("crawl", "--config", config, log=logs[1])
            procs += [worker, crawl]
            deadline = time.monotonic() + 300
            while len(_articles(database)) < ARTICLES // 4:
                assert time.monotonic() < deadline, logs[1].read_text()[-3000:]
                time.sleep(0.5)
            server.stop()
            time.sleep(1.0)
            server.start()
            assert _wait(crawl, 600, logs[1]) == 0, logs[1].read_text()[-3000:]
            assert _wait(worker, 120, logs[0]) == 0, logs[0].read_text()[-3000:]
            _check_archive(database, site, paths)
            for log in logs:
                assert "Traceback" not in log.read_text()
    finally:
        server.stop()


def test_a_worker_helps_a_crawl_and_sigterm_ends_it_cleanly(
    site: LocalSite, tmp_path: Path, procs: list[Any], cli: Any, database_url: str
) -> None:
    database = database_url
    with redis_db() as frontier:
        data = {
            "database": database,
            "frontier": frontier,
            "crawl": {"allow_private_networks": True, "download_delay": 0},
            "sources": [
                {
                    "name": "gazette",
                    "feeds": [site.url("/feed.xml")],
                    "sitemaps": [site.url("/sitemap_index.xml")],
                }
            ],
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        log = tmp_path / "worker.log"
        worker = _start("worker", "--config", str(config), "--extract-workers", "0", log=log)
        procs.append(worker)
        crawl = cli("crawl", "--config", str(config))
        assert crawl.returncode == 0, crawl.stderr
        assert len(_articles(database)) == 12
        # the crawl took the source's lock: the live worker's run is not "interrupted"
        here = socket.gethostname()
        assert rows(database, "SELECT status, host FROM runs WHERE trigger = 'worker'") == [
            ("running", here)
        ]
        state = cli("status", "--config", str(config))
        assert f"workers: 1 (pid {worker.pid} on {here}, last active " in state.stderr
        assert "running" not in state.stdout, "a worker's run is not the source's last run"
        os.kill(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()[-3000:]
        out = log.read_text()
        assert "requests handled" in out and "Traceback" not in out
        runs = cli("runs", "--config", str(config)).stdout
        assert "worker" in runs and "manual" in runs


WORKER_PROBE = """
import sys
from pathlib import Path
from common.config import load_config
from newsvault.worker import run_worker
run_worker(load_config(Path(sys.argv[1])), exit_when_idle=3, extract_workers=0, heartbeat=0.2)
"""


def test_a_worker_keeps_its_runs_alive_while_it_waits(
    tmp_path: Path, database_url: str, cli: Any
) -> None:
    """An idle worker refreshes its runs' heartbeat: other hosts see it alive (test_locks)."""
    with redis_db() as frontier:
        data = {
            "database": database_url,
            "frontier": frontier,
            "sources": [{"name": "gazette", "feeds": ["http://127.0.0.1:9/feed.xml"]}],
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-c", WORKER_PROBE, str(config)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [(trigger, status, host, started, beat)] = rows(
        database_url, "SELECT trigger, status, host, started_at, heartbeat_at FROM runs"
    )
    assert (trigger, status, host) == ("worker", "ok", socket.gethostname())
    assert _parse(beat) - _parse(started) >= timedelta(seconds=2), "no heartbeat while idle"


def _parse(at: Any) -> datetime:
    return at if isinstance(at, datetime) else datetime.fromisoformat(at)


def test_without_a_frontier_key_nothing_needs_redis(write_config: Any, site: Any, cli: Any) -> None:
    config = write_config([{"name": "gazette", "feeds": [site.url("/feed.xml")]}])
    proc = cli("crawl", "--config", str(config), env={"NEWSVAULT_TEST_REDIS": "redis://0.0.0.0:1"})
    assert proc.returncode == 0, proc.stderr
    assert "frontier" not in proc.stderr.lower()
    proc = cli("worker", "--config", str(config))
    assert proc.returncode == 2 and "needs a frontier" in proc.stderr


def test_an_unreachable_frontier_is_one_line_and_hides_its_password(
    tmp_path: Path, cli: Any
) -> None:
    port = _free_port()
    data = {
        "database": f"sqlite:///{tmp_path / 'a.db'}",
        "frontier": f"redis://:s3cret@127.0.0.1:{port}/0",
        "sources": [{"name": "a", "feeds": ["http://127.0.0.1:9/feed.xml"]}],
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    for command in ("worker", "crawl"):
        proc = cli(command, "--config", str(config))
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr.startswith(f"newsvault: cannot reach the frontier at 127.0.0.1:{port}")
        assert proc.stderr.count("\n") == 1 and "s3cret" not in proc.stderr
