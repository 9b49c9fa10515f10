"""Hostile sites and careless input (issue 20): no page takes over another article, no input
drops an article silently. Every page comes from a local server on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.faultsrv import FaultServer, Route, article_html

pytestmark = pytest.mark.slow


def _page(title: str, canonical: str = "", extra_head: str = "") -> bytes:
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html = article_html(title).replace("<head>", f"<head>{head}{extra_head}", 1)
    return html.encode()


def _listing(*paths: str) -> Route:
    links = "".join(f'<a href="{p}">{p}</a>' for p in paths)
    return Route(200, f"<html><body>{links}</body></html>".encode())


def _rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(sql, args).fetchall()


def _crawl(cli: Any, config: Path) -> Any:
    proc = cli("crawl", "--config", str(config))
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_a_canonical_link_cannot_take_over_an_article(
    write_config: Any, cli: Any, db_path: Path
) -> None:
    """Run 1 archives /a/good; run 2 lists /a/evil (canonical: /a/good, another text) and
    /a/copy (canonical: /a/good, the same article): /a/good keeps its text, /a/evil is archived
    under its own URL with the conflict recorded, /a/copy becomes an alias."""
    with FaultServer() as srv:
        good = srv.url("/a/good")
        srv.route("/a/good", Route(200, _page("Good story about harbour repairs")))
        srv.route("/a/evil", Route(200, _page("Evil page replacing the story", good)))
        srv.route("/a/copy", Route(200, _page("Good story about harbour repairs", good)))
        srv.route("/", _listing("/a/good"))
        source = {"name": "site", "start_urls": [srv.url("/")], "article_urls": ["/a/"]}
        config = write_config([source])
        assert _crawl(cli, config).returncode == 0
        srv.route("/", _listing("/a/evil", "/a/copy", "/a/good"))
        for _ in range(2):  # a second full run must not flip anything either
            assert _crawl(cli, config).returncode == 0
    rows = dict(_rows(db_path, "SELECT url, title FROM articles"))
    assert rows[good] == "Good story about harbour repairs"
    assert rows[srv.url("/a/evil")] == "Evil page replacing the story"
    assert _rows(db_path, "SELECT revision_count FROM articles WHERE url = ?", good) == [(1,)]
    aliases = dict(_rows(db_path, "SELECT url, reason FROM aliases"))
    assert aliases.get(srv.url("/a/copy")) == "canonical"
    assert srv.url("/a/evil") not in aliases
    conflicts = _rows(db_path, "SELECT url FROM failures WHERE kind = 'canonical-conflict'")
    assert (srv.url("/a/evil"),) in conflicts
