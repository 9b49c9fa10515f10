"""``newsvault reextract`` against pages crawled from a local server: it reads a stored page as
the crawl read it, and keeps every change of an article's text as a revision."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faultsrv import FaultServer, Route, _rss, article_html

pytestmark = pytest.mark.slow

TRAM = "/news/tram"
TRAM_SENTENCE = "Die Straßenbahn fährt ab Montag wieder über die Brücke."


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """One UTF-8 article that its server says is ISO-8859-1 (its <meta> says UTF-8)."""
    with FaultServer() as srv:
        page = article_html("Tram returns", TRAM_SENTENCE, meta_charset="utf-8")
        latin1 = {"Content-Type": "text/html; charset=iso-8859-1"}
        srv.route(TRAM, Route(200, page.encode(), latin1))
        feed = _rss(srv.base, [TRAM]).encode()
        srv.route("/feed.xml", Route(200, feed, {"Content-Type": "application/xml"}))
        yield srv


def _source(srv: FaultServer, **clean: Any) -> list[dict[str, Any]]:
    source: dict[str, Any] = {"name": "tram", "feeds": [srv.url("/feed.xml")]}
    if clean:
        source["clean"] = clean
    return [source]


def _text(db: Path, url: str) -> str:
    with sqlite3.connect(db) as con:
        return str(con.execute("SELECT text FROM articles WHERE url = ?", (url,)).fetchone()[0])


def test_reextract_reads_a_page_as_the_crawl_did_not_by_its_header_alone(
    server: FaultServer, write_config: Callable[..., Path], cli: Any, db_path: Path
) -> None:
    config = str(write_config(_source(server)))
    crawl = cli("crawl", "--config", config)
    assert crawl.returncode == 0, crawl.stderr
    url = server.url(TRAM)
    assert TRAM_SENTENCE in _text(db_path, url)
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert TRAM_SENTENCE in _text(db_path, url), "reextract wrote mojibake over the text"
    assert "1 articles re-extracted: 0 changed, 1 unchanged" in proc.stdout
