"""Fixtures: the sample site (with one hostile article) crawled once for all tests here."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsvault.sitesrv import LocalSite
from storage.copy import copy_archive
from tests.archive.helpers import Crawled, hostile_site, run_cli, write_config
from tests.services import pg_schema


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    """The site crawled once into a SQLite archive, then into a PostgreSQL one (a schema of
    its own; skipped where PostgreSQL is not running, required under CI=true)."""
    base = tmp_path_factory.mktemp("crawled")
    hostile_site(base / "site")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{base / 'archive.db'}"
        else:
            url = stack.enter_context(pg_schema("nv_crawled"))
        site = stack.enter_context(LocalSite(base / "site"))
        config = write_config(base / "config.yaml", url, site)
        proc = run_cli("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        yield Crawled(site, config, url)


@pytest.fixture
def archive_copy(crawled: Crawled, tmp_path: Path) -> Iterator[Crawled]:
    """A private copy of the crawled archive (and a config pointing at it), free to change."""
    with contextlib.ExitStack() as stack:
        if crawled.is_sqlite:
            db = tmp_path / "archive.db"
            for suffix in ("", "-wal"):
                src = Path(f"{crawled.db}{suffix}")
                if src.exists():
                    shutil.copy(src, f"{db}{suffix}")
            url = f"sqlite:///{db}"
        else:
            url = stack.enter_context(pg_schema("nv_copy"))
            copy_archive(crawled.url, url)
        config = write_config(tmp_path / "config.yaml", url, crawled.site)
        yield Crawled(crawled.site, config, url)
