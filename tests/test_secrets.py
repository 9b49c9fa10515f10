"""A database password is never printed, whatever is wrong with the URL that holds it.

Every message path that can hold the database URL: a malformed URL, an unknown dialect, a missing
driver, a URL SQLAlchemy cannot read, an archive that cannot be reached, and ``serve``'s start-up
line. A bad URL is a configuration error: one line, exit status 2, no traceback.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.dburl import check_database_url, mask_url
from common.errors import StorageError
from storage.repository import Archive
from tests.conftest import ROOT
from tests.faultsrv import held_port
from tests.services import pg_schema

SECRET = "S3cret-pa55-never-shown"


def _config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "config.yaml"
    data = {"database": database, "sources": [{"name": "x", "feeds": ["http://127.0.0.1:9/f"]}]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _one_line_exit_2(proc: Any) -> str:
    out = proc.stdout + proc.stderr
    assert SECRET not in out
    assert "Traceback" not in out, out
    assert proc.returncode == 2, out
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql//alice:{SECRET}@db.example/news", "not a database URL"),
        (f"postgresql://alice:{SECRET}@db.example:notaport/news", "not a database URL"),
        (f"nosuchdb://alice:{SECRET}@db.example/news", "unknown database kind 'nosuchdb'"),
        (f"postgresql+nosuchdriver://alice:{SECRET}@db.example/news", "unknown database kind"),
        (f"postgresql+psycopg2://alice:{SECRET}@db.example/news", "psycopg2 is not installed"),
    ],
)
@pytest.mark.parametrize("command", ["crawl", "runs", "serve", "status"])
def test_a_bad_database_url_is_one_masked_line_and_exit_2(
    cli: Any, tmp_path: Path, url: str, says: str, command: str
) -> None:
    proc = cli(command, "--config", str(_config(tmp_path, url)))
    line = _one_line_exit_2(proc)
    assert says in line and "database" in line
    assert "alice:***@db.example" in line


def test_a_missing_postgresql_driver_names_the_extra_to_install(cli: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "blocked"
    (blocker / "psycopg").mkdir(parents=True)
    (blocker / "psycopg" / "__init__.py").write_text("raise ImportError('no psycopg here')\n")
    url = f"postgresql://alice:{SECRET}@db.example/news"
    proc = cli(
        "runs",
        "--config",
        str(_config(tmp_path, url)),
        env={"PYTHONPATH": f"{blocker}:{ROOT}"},
    )
    line = _one_line_exit_2(proc)
    assert "pip install newsvault[postgres]" in line, line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://alice:{SECRET}@h/db", "postgresql://alice:***@h/db"),
        (f"postgresql//alice:{SECRET}@h/db", "postgresql//alice:***@h/db"),
        (f"postgresql+psycopg://alice:{SECRET}@h:5432/db?x=1", "alice:***@h:5432/db?x=1"),
        (f"alice:{SECRET}@h/db", "alice:***@h/db"),
        (f"postgresql://alice:p@{SECRET}@h/db", "postgresql://alice:***@h/db"),
        ("postgresql://alice@h/db", "postgresql://alice@h/db"),
        ("sqlite:////srv/news@home/a.db", "sqlite:////srv/news@home/a.db"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert shown in mask_url(url)
    assert SECRET not in mask_url(url)


def test_the_archive_api_masks_a_bad_url_too() -> None:
    for url in (f"postgresql//alice:{SECRET}@h/db", f"nosuchdb://alice:{SECRET}@h/db"):
        with pytest.raises(StorageError) as info:
            Archive.open(url)
        assert SECRET not in str(info.value) and "alice:***@h" in str(info.value)
    with pytest.raises(ValueError, match="not a database URL"):
        check_database_url(f"postgresql//alice:{SECRET}@h/db")


def test_an_unreachable_archive_is_masked(cli: Any, tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    with held_port() as port:
        url = f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:{port}/news"
        proc = cli("runs", "--config", str(_config(tmp_path, url)))
    assert proc.returncode == 3
    assert SECRET not in proc.stdout + proc.stderr and "alice:***@127.0.0.1" in proc.stderr


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _postgres_up(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_serve_masks_the_database_url_at_start_up(tmp_path: Path) -> None:
    with pg_schema("nv_secret") as schema_url:  # an archive of its own (trust auth: any password)
        url = schema_url.replace("postgres@", f"postgres:{SECRET}@", 1)
        assert SECRET in url
        Archive.open(url).close()  # created: serve reads an archive that exists
        _serve_and_check(tmp_path, url)


def _serve_and_check(tmp_path: Path, url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsvault", "serve", "--port", "0", "--config"]
        + [str(_config(tmp_path, url))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=30)[0]
    assert "serving" in first, first + rest
    assert SECRET not in first + rest
    assert "postgres:***@127.0.0.1" in first
