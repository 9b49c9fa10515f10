"""Fixtures: the sample site (with one hostile article) crawled once for all tests here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsvault.sitesrv import LocalSite
from tests.archive.helpers import Crawled, hostile_site, run_cli, write_config


@pytest.fixture(scope="session")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    base = tmp_path_factory.mktemp("crawled")
    hostile_site(base / "site")
    with LocalSite(base / "site") as site:
        db = base / "archive.db"
        config = write_config(base / "config.yaml", f"sqlite:///{db}", site)
        proc = run_cli("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        yield Crawled(site, config, db)


@pytest.fixture
def archive_copy(crawled: Crawled, tmp_path: Path) -> Crawled:
    """A private copy of the crawled archive (and a config pointing at it), free to change."""
    db = tmp_path / "archive.db"
    for suffix in ("", "-wal"):
        src = Path(f"{crawled.db}{suffix}")
        if src.exists():
            shutil.copy(src, f"{db}{suffix}")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{db}", crawled.site)
    return Crawled(crawled.site, config, db)
