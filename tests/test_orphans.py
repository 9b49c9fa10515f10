"""A crawl killed with SIGKILL leaves no process behind: not its extraction forkserver, not its
workers, not the multiprocessing resource tracker.

Only the crawl's main PID is killed (as the OOM killer or ``kill -9`` would), at random moments
(the seed is printed). The crawl runs in a session of its own, so every process it started,
however deep, is found by its session id in /proc.
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

import pytest
import yaml

from bench.sitegen import generate_site, set_base_url
from newsvault.sitesrv import LocalSite
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def session_processes(sid: int) -> dict[int, str]:
    """Live processes of session ``sid``: pid -> command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            state, _ppid, _pgrp, session = stat[stat.rindex(")") + 2 :].split()[:4]
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
        if int(session) == sid and state != "Z":
            found[int(entry)] = cmd.decode(errors="replace")[:120]
    return found


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSite]:
    """A site of 400 articles: a crawl of it runs long enough to be killed mid-way."""
    root = tmp_path_factory.mktemp("site")
    generate_site(root, 400)
    with LocalSite(root) as site:
        set_base_url(root, site.url("").rstrip("/"))
        yield site


def _start_crawl(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _kill_and_check(proc: subprocess.Popen[bytes]) -> tuple[dict[int, str], dict[int, str]]:
    """SIGKILL the crawl's main PID only; (processes of its session before, left 5 s after)."""
    before = session_processes(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    left = session_processes(proc.pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = session_processes(proc.pid)
    for pid in left:  # don't leave them to the next test
        os.kill(pid, signal.SIGKILL)
    return before, left


def test_a_crawl_killed_at_random_moments_leaves_no_process(
    big_site: LocalSite, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'archive.db'}",
                "crawl": {"allow_private_networks": True, "download_delay": 0},
                "sources": [{"name": "big", "sitemaps": [big_site.url("/sitemap_index.xml")]}],
            }
        )
    )
    saw_workers = 0
    for attempt in range(4):
        proc = _start_crawl(config)
        if attempt % 2 == 0:
            time.sleep(rng.uniform(0.2, 4.0))  # any moment: starting up, or crawling
        else:
            # once the pool is up (crawl, tracker, forkserver, workers), a moment later
            deadline = time.monotonic() + 60
            while len(session_processes(proc.pid)) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 1.5))
        before, left = _kill_and_check(proc)
        saw_workers += len(before) >= 4
        assert not left, f"seed {seed}: left after SIGKILL of {proc.pid}: {left} (had {before})"
    assert saw_workers, "the crawl was never killed while its extraction pool was up"


def test_a_reextract_killed_with_its_pool_up_leaves_no_process(
    big_site: LocalSite, tmp_path: Path
) -> None:
    """``reextract`` runs its own extraction pool: a SIGKILL of it must take the pool along."""
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'archive.db'}",
                "crawl": {"allow_private_networks": True, "download_delay": 0},
                "sources": [{"name": "big", "sitemaps": [big_site.url("/sitemap_index.xml")]}],
            }
        )
    )
    crawl = subprocess.run(
        [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
        cwd=ROOT, capture_output=True, timeout=300,
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    saw_pool = 0
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsvault", "reextract", "--config", str(config)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(session_processes(proc.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        before, left = _kill_and_check(proc)
        saw_pool += len(before) >= 4
        assert not left, f"left after SIGKILL of reextract {proc.pid}: {left} (had {before})"
    assert saw_pool, "reextract was never killed while its pool was up"


def test_die_with_parent_kills_a_child_when_its_parent_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    grandchild = tmp_path / "grandchild.py"
    grandchild.write_text(
        "import os, sys, time\n"
        "from common.procs import die_with_parent\n"
        "assert die_with_parent()\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            f"subprocess.Popen([sys.executable, {str(grandchild)!r}]); time.sleep(60)",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    parent.kill()  # SIGKILL: nothing of Python's runs in the parent
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the child outlived its parent"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
