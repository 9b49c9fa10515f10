"""``newsvault copy --to URL``: a whole archive into another database, resumable, never over a
non-empty one unless told; SQLite -> PostgreSQL -> SQLite gives back the same export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import storage.copy as copy_mod
from common.errors import StorageError
from storage.copy import copy_archive
from tests.services import pg_schema, sqlite_only


def _config(path: Path, database: str) -> str:
    path.write_text(yaml.safe_dump({"database": database}), encoding="utf-8")
    return str(path)


def _exports(cli: Any, config: str) -> tuple[str, str]:
    out = []
    for fmt in ("jsonl", "csv"):
        proc = cli("export", "--config", config, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        out.append(proc.stdout)
    return out[0], out[1]


@pytest.fixture
def crawled(write_config: Callable[..., Path], site: Any, cli: Any) -> str:
    """The config of an archive (SQLite, then PostgreSQL) that two crawls of the site filled."""
    config = write_config(
        [
            {
                "name": "gazette",
                "feeds": [site.url("/feed.xml")],
                "sitemaps": [site.url("/sitemap_index.xml")],
                "start_urls": [site.url("/")],
            }
        ]
    )
    for _ in range(2):  # two runs: runs, fetches and revisions of both
        proc = cli("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
    return str(config)


@sqlite_only("the round trip starts from SQLite")
def test_sqlite_to_postgresql_to_sqlite_gives_back_the_same_export(
    crawled: str, cli: Any, tmp_path: Path
) -> None:
    crawled_sqlite = crawled
    before = _exports(cli, crawled)
    assert before[0].count("\n") == 12
    with pg_schema("nv_copy") as pg:
        to_pg = cli("copy", "--config", crawled_sqlite, "--to", pg)
        assert to_pg.returncode == 0, to_pg.stderr
        assert "articles 12" in to_pg.stdout
        again = cli("copy", "--config", crawled_sqlite, "--to", pg)
        assert again.returncode == 3 and "not empty" in again.stderr
        assert "Traceback" not in again.stderr
        resumed = cli("copy", "--config", crawled_sqlite, "--to", pg, "--resume")
        assert resumed.returncode == 0 and "copied 0 rows" in resumed.stdout, resumed.stderr
        pg_config = _config(tmp_path / "pg.yaml", pg)
        assert _exports(cli, pg_config) == before
        back = f"sqlite:///{tmp_path / 'back.db'}"
        proc = cli("copy", "--config", pg_config, "--to", back)
        assert proc.returncode == 0, proc.stderr
        # the copy takes new runs and articles: its id sequences moved past the copied ids
        runs = cli("runs", "--config", pg_config)
        assert runs.returncode == 0
    assert _exports(cli, _config(tmp_path / "back.yaml", back)) == before


def test_an_interrupted_copy_resumes_where_it_stopped(
    crawled: str, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = yaml.safe_load(Path(crawled).read_text())["database"]
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setattr(copy_mod, "BATCH", 5)
    seen: list[tuple[str, int]] = []

    def stop_midway(table: str, rows: int) -> None:
        seen.append((table, rows))
        if table == "articles" and rows >= 5:
            raise KeyboardInterrupt  # as a user's ^C between two batches

    with pytest.raises(KeyboardInterrupt):
        copy_archive(source, target, progress=stop_midway)
    with pytest.raises(StorageError, match="not empty"):
        copy_archive(source, target)
    result = copy_archive(source, target, resume=True)
    assert result.kept["articles"] == 5 and result.copied["articles"] == 7
    assert _exports(cli, _config(tmp_path / "c.yaml", target)) == _exports(cli, crawled)
