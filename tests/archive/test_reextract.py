"""``newsvault reextract`` against pages crawled from a local server: it reads a stored page as
the crawl read it, and keeps every change of an article's text as a revision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faultsrv import FaultServer, Route, _rss, article_html
from tests.services import rows, sql

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


def _text(db: str, url: str) -> str:
    [(text,)] = rows(db, "SELECT text FROM articles WHERE url = ?", url)
    return str(text)


def test_reextract_reads_a_page_as_the_crawl_did_not_by_its_header_alone(
    server: FaultServer, write_config: Callable[..., Path], cli: Any, database_url: str
) -> None:
    config = str(write_config(_source(server)))
    crawl = cli("crawl", "--config", config)
    assert crawl.returncode == 0, crawl.stderr
    url = server.url(TRAM)
    assert TRAM_SENTENCE in _text(database_url, url)
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert TRAM_SENTENCE in _text(database_url, url), "reextract wrote mojibake over the text"
    assert "re-extracted: 0 changed (0 kept as a new revision), 1 unchanged" in proc.stdout


def _row(db: str, url: str) -> dict[str, Any]:
    with sql(db) as con:
        return dict(con.execute("SELECT * FROM articles WHERE url = ?", (url,)).mappings().one())


def _crawled(server: FaultServer, write_config: Callable[..., Path], cli: Any) -> str:
    crawl = cli("crawl", "--config", str(write_config(_source(server))))
    assert crawl.returncode == 0, crawl.stderr
    return server.url(TRAM)


def test_a_text_changed_by_reextract_is_kept_as_a_new_revision_with_its_simhash(
    server: FaultServer, write_config: Callable[..., Path], cli: Any, database_url: str
) -> None:
    from common.fingerprint import simhash, simhash_bands, text_fingerprint
    from storage.incremental import REVISION_COPIES
    from storage.repository import Archive

    url = _crawled(server, write_config, cli)
    before = _row(database_url, url)
    config = str(write_config(_source(server, drop_lines=["^Die Straßenbahn"])))
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 changed (1 kept as a new revision)" in proc.stdout
    row = _row(database_url, url)
    assert TRAM_SENTENCE in before["text"] and TRAM_SENTENCE not in row["text"]
    assert row["text_hash"] == text_fingerprint(row["text"])
    sim = simhash(row["text"])
    assert sim is not None and row["simhash"] == sim != before["simhash"]
    assert (row["sim_b0"], row["sim_b1"], row["sim_b2"], row["sim_b3"]) == simhash_bands(sim)
    archive = Archive.open(database_url, readonly=True)
    try:
        found = archive.history(url)
    finally:
        archive.close()
    assert found is not None
    art, revisions = found
    assert [r["number"] for r in revisions] == [1, 2] and art["revisions"] == 2
    assert TRAM_SENTENCE in revisions[0]["text"], "the crawled text is kept"
    newest = revisions[-1]
    for name in set(REVISION_COPIES) - {"text_hash", "body_sha256"}:
        assert newest[name] == art[name], name
    assert newest["body_sha256"] == row["body_sha256"]
    assert "2 revision(s)" in cli("history", "--config", config, url).stdout
    again = cli("reextract", "--config", config, "--workers", "1")
    assert "0 changed (0 kept as a new revision), 1 unchanged" in again.stdout


def test_reextract_repairs_a_stale_simhash_in_place_and_keeps_a_metadata_change_as_a_revision(
    server: FaultServer, write_config: Callable[..., Path], cli: Any, database_url: str
) -> None:
    url = _crawled(server, write_config, cli)
    good = _row(database_url, url)
    with sql(database_url) as con:  # as an earlier reextract (or an older rule) left it
        con.execute(
            "UPDATE articles SET simhash = 1, sim_b0 = 1, sim_b1 = 0, sim_b2 = 0, sim_b3 = 0"
            " WHERE url = ?",
            (url,),
        )
    config = str(write_config(_source(server)))
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 changed (0 kept as a new revision)" in proc.stdout
    assert _row(database_url, url) == good
    with sql(database_url) as con:
        assert con.execute("SELECT count(*) FROM revisions").fetchone()[0] == 1
        con.execute("UPDATE articles SET site_name = 'Stale' WHERE url = ?", (url,))
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert "1 changed (1 kept as a new revision)" in proc.stdout, "every change is a revision"
    row = _row(database_url, url)
    assert row["site_name"] == good["site_name"] and row["revision_count"] == 2
    newest = rows(
        database_url, "SELECT site_name, text FROM revisions ORDER BY number DESC LIMIT 1"
    )
    assert newest == [(good["site_name"], good["text"])]


def test_reextract_never_drops_more_than_half_of_a_text_without_a_trace(
    server: FaultServer, write_config: Callable[..., Path], cli: Any, database_url: str
) -> None:
    url = _crawled(server, write_config, cli)
    longer = (_text(database_url, url) + "\n") * 3  # what an earlier, better extraction stored
    with sql(database_url) as con:
        con.execute("UPDATE articles SET text = ? WHERE url = ?", (longer, url))
    before = _row(database_url, url)
    config = str(write_config(_source(server)))
    proc = cli("reextract", "--config", config, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 article(s) kept their text" in proc.stderr
    assert _row(database_url, url) == before, "the stored text is kept"
    assert rows(database_url, "SELECT count(*) FROM revisions") == [(1,)]
    [(kind, reason)] = rows(database_url, "SELECT kind, reason FROM failures WHERE url = ?", url)
    assert kind == "reextract-shrank"
    assert f"of {len(longer):,} characters" in reason and "the stored text is kept" in reason
