"""The web view over HTTP: pages, JSON, escaping, raw HTML handling, read-only, revisions."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from newsvault.web.app import ArchiveApp, make_server
from storage.repository import Archive
from tests.archive.helpers import (
    HOSTILE_PATH,
    HOSTILE_QUOTE,
    Crawled,
    add_revisions,
    sql,
)

pytestmark = pytest.mark.slow

Get = Callable[..., tuple[int, dict[str, str], bytes]]


@pytest.fixture
def web(archive_copy: Crawled) -> Iterator[tuple[Get, Crawled, int]]:
    """The app over a copy of the crawled archive (with revisions for the hostile article)."""
    art_id = add_revisions(archive_copy.url, archive_copy.site.url(HOSTILE_PATH))
    archive = Archive.open(archive_copy.url, readonly=True)
    server = make_server(ArchiveApp(archive.engine), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def get(path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(base + path, method=method)
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers), exc.read()

    yield get, archive_copy, art_id
    server.shutdown()
    server.server_close()
    archive.close()


def test_pages_are_served_with_a_strict_policy(web: Any) -> None:
    get, _, art_id = web
    for path in (
        "/",
        "/search?q=harbour",
        f"/articles/{art_id}",
        "/runs",
        "/sources/gazette",
        f"/articles/{art_id}/revisions",
        f"/articles/{art_id}/revisions/2",
    ):
        status, headers, body = get(path)
        assert status == 200, path
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert b"<script" not in body.lower(), path


def test_archived_markup_is_shown_as_text(web: Any) -> None:
    get, crawled_, art_id = web
    _, _, body = get(f"/articles/{art_id}")
    page = body.decode()
    assert "&lt;script&gt;window.__pwned = 1;" in page
    assert HOSTILE_QUOTE not in page
    assert f'href="{crawled_.site.url(HOSTILE_PATH)}"' in page
    _, _, body = get("/search?q=consultation")
    assert "<mark>consultation</mark>" in body.decode() and HOSTILE_QUOTE not in body.decode()
    if crawled_.is_sqlite:  # PostgreSQL's snippet is another window of the text
        assert "&lt;script&gt;" in body.decode()


def test_only_http_links_to_originals(web: Any) -> None:
    get, crawled_, art_id = web
    with sql(crawled_.url) as con:
        con.execute("UPDATE articles SET url = 'javascript:alert(1)' WHERE id = ?", (art_id,))
    _, _, body = get(f"/articles/{art_id}")
    assert b"javascript:alert(1)" in body and b'href="javascript:' not in body


def test_raw_html_is_a_sandboxed_plain_text_download(web: Any) -> None:
    get, crawled_, art_id = web
    status, headers, body = get(f"/articles/{art_id}/raw")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert headers["X-Content-Type-Options"] == "nosniff"
    with urllib.request.urlopen(crawled_.site.url(HOSTILE_PATH)) as resp:
        assert body == resp.read()
    assert b"window.__pwned_raw" in body


def test_json_endpoints_carry_the_same_data(web: Any) -> None:
    get, crawled_, art_id = web

    def js(path: str) -> Any:
        status, headers, body = get(path)
        assert status == 200 and headers["Content-Type"].startswith("application/json"), path
        return json.loads(body)

    hits = js("/api/search?q=harbour+dredging&source=gazette&since=2026-11-20")["hits"]
    assert hits[0]["id"] == art_id and "[dredg" in hits[0]["snippet_marked"]
    art = js(f"/api/articles/{art_id}")
    assert art["url"] == crawled_.site.url(HOSTILE_PATH) and HOSTILE_QUOTE in art["text"]
    assert js("/api/sources") == {"sources": ["gazette"]}
    recent = js("/api/sources/gazette")["articles"]
    assert len(recent) == 12
    dates = [a["published_at"] for a in recent]
    assert dates == sorted(dates, reverse=True), "newest first"
    runs = js("/api/runs")
    assert runs["runs"][0]["status"] == "partial"
    assert runs["failures"][0]["url"] == crawled_.site.url("/2026/11/gone-missing-story/")
    run_id = runs["runs"][0]["id"]
    assert js(f"/api/runs/{run_id}")["failures"][0]["status"] == 404
    revs = js(f"/api/articles/{art_id}/revisions")
    assert revs["available"] and [r["number"] for r in revs["revisions"]] == [1, 2]
    assert len(revs["fetches"]) == 1
    diff = js(f"/api/articles/{art_id}/revisions/2")
    ops = {(d["op"], d["text"]) for d in diff["diff"]}
    assert ("del", "spring") in ops and ("ins", "second week of January") in ops


def test_revision_diff_page(web: Any) -> None:
    get, _, art_id = web
    _, _, body = get(f"/articles/{art_id}/revisions/2")
    page = body.decode()
    assert "<del>spring</del><ins>second week of January</ins>" in page
    assert "<del>Harbour dredging delayed again</del>" in page
    _, _, body = get(f"/articles/{art_id}/revisions")
    assert f'href="/articles/{art_id}/revisions/2"' in body.decode()


def test_errors_are_pages_or_json_and_nothing_writes(web: Any) -> None:
    get, crawled_, art_id = web
    assert get("/articles/999999")[0] == 404
    assert get("/nowhere")[0] == 404
    assert get(f"/articles/{art_id}/revisions/9")[0] == 404
    assert get("/", method="POST")[0] == 405
    assert get("/search?q=%22harbour")[0] == 200  # not FTS syntax: literal words (issue 20)
    status, _, body = get("/search?q=*")
    assert status == 400 and b"nothing to search for" in body and b"Traceback" not in body
    status, _, body = get("/search?q=harbour&since=yesterday")
    assert status == 400 and b"since: not a date" in body
    status, headers, body = get("/api/search?q=(")
    assert status == 400 and "nothing to search for" in json.loads(body)["error"]
    assert get("/", method="HEAD")[0] == 200
