"""Shared fixtures: local sites on 127.0.0.1 (port 0), config files, the CLI in a subprocess.

Tests never touch the internet. Crawls run in a child process (``python -m newsvault.cli``),
because Twisted's reactor cannot be restarted inside the test process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsvault.demo import DEMO_SITE
from newsvault.sitesrv import LocalSite

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy may redirect a test's requests anywhere but loopback."""
    for name in list(os.environ):
        if name.lower() in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NEWSVAULT_CONFIG", raising=False)


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """What the bundled demo site holds (tests/data/demo_site.json)."""
    return json.loads((DATA / "demo_site.json").read_text(encoding="utf-8"))


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """The bundled sample news site, served on 127.0.0.1 at a free port."""
    with LocalSite(DEMO_SITE) as s:
        yield s


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[Callable[..., LocalSite]]:
    """A copy of the sample site, changed by ``edit(root)`` before it is served."""
    sites: list[LocalSite] = []

    def factory(edit: Callable[[Path], None] | None = None) -> LocalSite:
        root = tmp_path / f"site{len(sites)}"
        shutil.copytree(DEMO_SITE, root)
        if edit is not None:
            edit(root)
        s = LocalSite(root)
        sites.append(s)
        return s

    yield factory
    for s in sites:
        s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive's URL: a SQLite file (``db_path``), then a fresh schema of the real
    PostgreSQL (skipped where it is not running; required under CI=true). A test about SQLite
    itself runs on SQLite alone: :func:`tests.services.sqlite_only`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    from tests.services import pg_schema

    with pg_schema() as url:
        yield url


@pytest.fixture
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The SQLite file behind ``database_url``: only for tests that run on SQLite alone."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("database_url", "sqlite") != "sqlite":
        pytest.fail(
            "db_path is SQLite's file: read the archive with tests.services.sql, or "
            "mark the test @sqlite_only(reason)"
        )
    return tmp_path / "archive.db"


@pytest.fixture
def write_config(tmp_path: Path, database_url: str) -> Callable[..., Path]:
    """Write a config.yaml for the given sources over the ``database_url`` archive (SQLite,
    then PostgreSQL); crawling politeness off for speed."""

    def write(sources: list[dict[str, Any]], **crawl: Any) -> Path:
        data = {
            "database": database_url,
            "crawl": {"allow_private_networks": True, "download_delay": 0, **crawl},
            "sources": sources,
        }
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``newsvault ARGS`` in a child process; returns the completed process."""

    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "newsvault", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run
