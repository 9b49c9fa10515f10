"""``newsvault serve`` runs on a real WSGI server (waitress) with an access log, keeps the web
view's policy and read-only archive, and warns when it is about to publish the archive."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.repository import Archive
from tests.conftest import ROOT


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    Archive.open(database_url).close()  # an empty archive, migrated
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": database_url}), encoding="utf-8")
    return path


@pytest.fixture
def served(config: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsvault", "serve", "--port", "0", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        yield int(m.group(1)), proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def _stderr(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    assert proc.stderr is not None
    return proc.stderr.read()


def test_one_connection_serves_several_requests_with_the_policy(
    served: tuple[int, subprocess.Popen[str]],
) -> None:
    port, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        statuses = []
        for path in ("/", "/runs", "/api/runs"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            assert not resp.will_close, "HTTP/1.1 keep-alive, as a production server does"
        sock = conn.sock
        conn.request("POST", "/", body=b"x=1")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 405, "the archive is read-only"
        assert conn.sock is sock
    finally:
        conn.close()
    assert statuses == [200, 200, 200]


def test_every_request_gets_an_access_log_line(served: tuple[int, subprocess.Popen[str]]) -> None:
    port, proc = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for path in ("/runs?x=1", "/nothing-here", "/search%0a%1b[31mFAKE"):
        conn.request("GET", path)
        conn.getresponse().read()
    conn.close()
    time.sleep(0.5)
    err = _stderr(proc)
    assert re.search(r'127\.0\.0\.1 - - \[[^]]+\] "GET /runs\?x=1 HTTP/1\.1" 200 \d+ ', err), err
    assert '"GET /nothing-here HTTP/1.1" 404' in err
    assert "\x1b" not in err and "/search\\x0a\\x1b[31mFAKE" in err, "no log injection"


def test_a_non_loopback_host_is_warned_about(config: Path, cli: Any) -> None:
    # 192.0.2.1 (TEST-NET-1) is not on this machine: the warning comes, then the bind fails
    proc = cli("serve", "--host", "192.0.2.1", "--port", "0", "--config", str(config))
    assert "warning: --host 192.0.2.1 is not a loopback address" in proc.stderr
    assert "published" in proc.stderr
    assert proc.returncode == 2 and "cannot listen on 192.0.2.1" in proc.stderr


def test_a_loopback_host_gets_no_warning(served: tuple[int, subprocess.Popen[str]]) -> None:
    _, proc = served
    assert "warning" not in _stderr(proc)
