"""Reading commands on an archive that cannot be written (issue 20): a read-only bind mount
(a read-only volume or snapshot) in a private mount namespace (``unshare``), so it works as root
too, where ``chmod`` blocks nothing."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.archive.helpers import HOSTILE_PATH, Crawled
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
# SQLite alone: a file on a volume mounted read-only (PostgreSQL's read-only archive:
# tests/test_storage_faults.py and test_search.py)
READONLY_VOLUME = pytest.param("sqlite", id="sqlite-only:file-on-a-read-only-volume")

_WSGI = """
import sys
from newsvault.web.app import ArchiveApp
from storage.repository import Archive
app = ArchiveApp(Archive.open(sys.argv[1], readonly=True).engine)
for path in ("/", "/runs", "/articles/1", "/api/search"):
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "q=harbour"}
    app(env, lambda status, headers: print("WEB", path, status))
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.fixture
def readonly_mount(archive_copy: Crawled, tmp_path: Path) -> tuple[Path, Path]:
    """(the folder the archive shows in, read-only; the folder holding it) with the config."""
    if not _unshare_works():
        pytest.skip("needs unshare -rm (user and mount namespaces) for a read-only bind mount")
    src = tmp_path / "src"
    src.mkdir()
    with sqlite3.connect(archive_copy.db) as con:  # as a snapshot of a quiet archive holds it
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(archive_copy.db, src / "archive.db")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    config = archive_copy.config.read_text().replace(str(archive_copy.db), str(mnt / "archive.db"))
    (src / "config.yaml").write_text(config)
    return mnt, src


def _in_mount(mnt: Path, src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = f'mount --bind "{src}" "{mnt}" && mount -o remount,ro,bind "{mnt}" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("crawled", [READONLY_VOLUME], indirect=True)
def test_reading_commands_work_on_a_read_only_volume(
    readonly_mount: tuple[Path, Path], archive_copy: Crawled
) -> None:
    mnt, src = readonly_mount
    cfg = str(mnt / "config.yaml")
    nv = [sys.executable, "-m", "newsvault"]
    url = archive_copy.site.url(HOSTILE_PATH)
    # the mount really refuses writes
    touch = _in_mount(mnt, src, "touch", str(mnt / "x"))
    assert touch.returncode != 0 and "Read-only" in touch.stderr, touch.stderr
    for args in (
        ["search", "harbour", "--config", cfg],
        ["stats", "--config", cfg],
        ["show", url, "--config", cfg],
        ["export", "--format", "jsonl", "--config", cfg],
    ):
        proc = _in_mount(mnt, src, *nv, *args)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stdout.strip() and "Traceback" not in proc.stderr, (args, proc.stderr)
    web = _in_mount(
        mnt, src, sys.executable, "-c", textwrap.dedent(_WSGI), f"sqlite:///{mnt}/archive.db"
    )
    assert web.returncode == 0, web.stderr
    assert web.stdout.count(" 200 ") == 4, web.stdout


@pytest.mark.parametrize("crawled", [READONLY_VOLUME], indirect=True)
def test_an_archive_that_cannot_be_read_is_one_line_exit_3(
    readonly_mount: tuple[Path, Path],
) -> None:
    mnt, src = readonly_mount
    (src / "archive.db").write_bytes(b"this is not a database" * 100)
    nv = [sys.executable, "-m", "newsvault"]
    for args in (["search", "harbour"], ["stats"], ["show", "1"], ["export"]):
        proc = _in_mount(mnt, src, *nv, *args, "--config", str(mnt / "config.yaml"))
        assert proc.returncode == 3, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "SELECT" not in lines[0], (args, proc.stderr)
