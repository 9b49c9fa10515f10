"""Hostile sites and careless input (issue 20): no page takes over another article, no input
drops an article silently. Every page comes from a local server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.faultsrv import FaultServer, Route, article_html
from tests.services import rows as _rows

pytestmark = pytest.mark.slow


def _page(title: str, canonical: str = "", extra_head: str = "") -> bytes:
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html = article_html(title).replace("<head>", f"<head>{head}{extra_head}", 1)
    return html.encode()


def _listing(*paths: str) -> Route:
    links = "".join(f'<a href="{p}">{p}</a>' for p in paths)
    return Route(200, f"<html><body>{links}</body></html>".encode())


def _crawl(cli: Any, config: Path) -> Any:
    proc = cli("crawl", "--config", str(config))
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_a_canonical_link_cannot_take_over_an_article(
    write_config: Any, cli: Any, database_url: str
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
    rows = dict(_rows(database_url, "SELECT url, title FROM articles"))
    assert rows[good] == "Good story about harbour repairs"
    assert rows[srv.url("/a/evil")] == "Evil page replacing the story"
    assert _rows(database_url, "SELECT revision_count FROM articles WHERE url = ?", good) == [(1,)]
    aliases = dict(_rows(database_url, "SELECT url, reason FROM aliases"))
    assert aliases.get(srv.url("/a/copy")) == "canonical"
    assert srv.url("/a/evil") not in aliases
    conflicts = _rows(database_url, "SELECT url FROM failures WHERE kind = 'canonical-conflict'")
    assert (srv.url("/a/evil"),) in conflicts


def test_redirects_stay_on_the_sources_scheme_and_port(
    write_config: Any, cli: Any, database_url: str
) -> None:
    """A redirect to another port of 127.0.0.1, or to a javascript:, file: or ftp: URL, is not
    followed, and is recorded as a refused redirect."""
    with FaultServer() as other, FaultServer() as srv:
        other.route("/a/elsewhere", Route(200, _page("Page on another port")))
        targets = {
            "/a/port": other.url("/a/elsewhere"),
            "/a/js": "javascript:alert(1)",
            "/a/file": "file:///etc/passwd",
            "/a/ftp": f"ftp://127.0.0.1:{srv.port}/x",
        }
        for path, target in targets.items():
            srv.route(path, Route(302, b"", {"Location": target}))
        srv.route("/a/moved", Route(302, b"", {"Location": "/a/here"}))  # same port: followed
        srv.route("/a/here", Route(200, _page("Moved story on the same port")))
        srv.route("/", _listing(*targets, "/a/moved"))
        source = {"name": "site", "start_urls": [srv.url("/")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([source]))
        assert other.hits == [], "a redirect to another port was followed"
    failures = {
        u: (k, r) for u, k, r in _rows(database_url, "SELECT url, kind, reason FROM failures")
    }
    for path in targets:
        kind, reason = failures[srv.url(path)]
        assert kind == "redirect" and "redirect refused" in reason, (path, kind, reason)
    assert "another port" not in str(_rows(database_url, "SELECT title FROM articles"))
    assert _rows(database_url, "SELECT title FROM articles") == [("Moved story on the same port",)]


@pytest.mark.parametrize("ref", ["&#x1b;", "&#7;", "&#8;", "&#1;"])
def test_a_control_character_reference_does_not_drop_the_article(
    ref: str, write_config: Any, cli: Any, database_url: str
) -> None:
    with FaultServer() as srv:
        html = _page("Story with an escape").replace(b"<p>", f"<p>Before{ref}after ".encode(), 1)
        srv.route("/a/ctl", Route(200, html))
        srv.route("/", _listing("/a/ctl"))
        source = {"name": "site", "start_urls": [srv.url("/")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([source]))
    (text,) = _rows(database_url, "SELECT text FROM articles WHERE url = ?", srv.url("/a/ctl"))[0]
    assert "Beforeafter" in text and "\x1b" not in text


def test_a_page_without_an_article_leaves_a_recorded_reason(
    write_config: Any, cli: Any, database_url: str
) -> None:
    with FaultServer() as srv:
        srv.route("/a/short", Route(200, b"<html><body><p>Only a few words.</p></body></html>"))
        srv.route("/", _listing("/a/short"))
        source = {"name": "site", "start_urls": [srv.url("/")], "article_urls": ["/a/"]}
        assert _crawl(cli, write_config([source])).returncode == 0
    rows = _rows(
        database_url, "SELECT kind, status, reason FROM failures WHERE url = ?", srv.url("/a/short")
    )
    assert rows and rows[0][:2] == ("not-article", 200) and "words" in rows[0][2], rows
    assert _rows(database_url, "SELECT articles_skipped, errors FROM runs") == [(1, 0)]


def test_only_http_urls_are_kept_in_url_fields(
    write_config: Any, cli: Any, database_url: str
) -> None:
    with FaultServer() as srv:
        head = '<meta property="og:image" content="javascript:alert(1)">'
        srv.route("/a/img", Route(200, _page("Story with a script image", extra_head=head)))
        srv.route("/", _listing("/a/img"))
        source = {"name": "site", "start_urls": [srv.url("/")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([source]))
    assert _rows(database_url, "SELECT image_url FROM articles") == [(None,)]


def _urlset(base: str, paths: list[str]) -> bytes:
    head = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (head + urls + "</urlset>").encode()


def test_a_sitemap_over_the_page_cap_is_read_whole(
    write_config: Any, cli: Any, database_url: str
) -> None:
    """A valid 100,000-URL sitemap (5.2 MB) is over a 5 MB page cap, not over the sitemaps' own
    cap: its URLs are used (only two match the source's article pattern, to keep it short)."""
    with FaultServer() as srv:
        filler = [f"/other/section-{i:06d}-padding" for i in range(99_998)]
        body = _urlset(srv.base, ["/a/first-story", *filler, "/a/last-story"])
        assert len(body) > 5_000_000
        srv.route("/sitemap.xml", Route(200, body, {"Content-Type": "application/xml"}))
        for p in ("/a/first-story", "/a/last-story"):
            srv.route(p, Route(200, _page(f"Story {p}")))
        source = {"name": "site", "sitemaps": [srv.url("/sitemap.xml")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([source], max_page_bytes=5_000_000))
    urls = {u for (u,) in _rows(database_url, "SELECT url FROM articles")}
    assert urls == {srv.url("/a/first-story"), srv.url("/a/last-story")}


def test_a_sitemap_over_its_own_cap_keeps_what_was_read(
    write_config: Any, cli: Any, database_url: str
) -> None:
    """Past the sitemaps' cap (50 MB) the download is cut; the URLs read before the cut are
    used, and the cut is recorded."""
    with FaultServer() as srv:
        pad = "x" * 600
        filler = [f"/other/{i}-{pad}" for i in range(90_000)]
        body = _urlset(srv.base, ["/a/first-story", *filler, "/a/last-story"])
        assert len(body) > 52_428_800
        srv.route("/sitemap.xml", Route(200, body, {"Content-Type": "application/xml"}))
        for p in ("/a/first-story", "/a/last-story"):
            srv.route(p, Route(200, _page(f"Story {p}")))
        source = {"name": "site", "sitemaps": [srv.url("/sitemap.xml")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([source]))
        assert srv.count("/a/last-story") == 0
    urls = {u for (u,) in _rows(database_url, "SELECT url FROM articles")}
    assert urls == {srv.url("/a/first-story")}
    rows = _rows(database_url, "SELECT kind, reason FROM failures")
    assert len(rows) == 1, rows
    row = rows[0]
    assert row[0] == "sitemap-too-large" and "cut" in row[1], row


def test_two_sources_listing_one_url_the_first_to_store_it_owns_it(
    write_config: Any, cli: Any, database_url: str
) -> None:
    """Source "first" archives /a/shared; "second" lists it too: its fetch is kept as a fetch
    of first's article, and only first's fetches change the article (issue 20, rule 14)."""
    with FaultServer() as srv:
        srv.route("/a/shared", Route(200, _page("Shared story")))
        srv.route("/one", _listing("/a/shared"))
        srv.route("/two", _listing("/a/shared"))
        first = {"name": "first", "start_urls": [srv.url("/one")], "article_urls": ["/a/"]}
        second = {"name": "second", "start_urls": [srv.url("/two")], "article_urls": ["/a/"]}
        _crawl(cli, write_config([first]))
        srv.route("/a/shared", Route(200, _page("Shared story, as changed")))
        _crawl(cli, write_config([second]))
        url = srv.url("/a/shared")
        rows = _rows(database_url, "SELECT id, source, title, revision_count FROM articles")
        assert [r[1:] for r in rows] == [("first", "Shared story", 1)]
        fetches = _rows(
            database_url,
            "SELECT r.source, f.article_id FROM fetches f JOIN runs r ON r.id = f.run_id"
            " WHERE f.url = ? ORDER BY f.id",
            url,
        )
        assert fetches == [("first", rows[0][0]), ("second", rows[0][0])]
        runs = _rows(
            database_url, "SELECT source, articles_new, articles_skipped FROM runs ORDER BY id"
        )
        assert runs == [("first", 1, 0), ("second", 0, 1)]
        _crawl(cli, write_config([first]))  # the owner's next fetch takes the change
    assert _rows(database_url, "SELECT title, revision_count FROM articles") == [
        ("Shared story, as changed", 2)
    ]
