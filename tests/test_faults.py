"""A crawl of the fault-injecting server (tests/faultsrv.py) completes, archives every good
article with its text in correct UTF-8, and records every bad page with the right kind and
reason; hostile feeds never expand entities or fetch anything they name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faultsrv import (
    ENCODED,
    FAULT_FEEDS,
    FAULT_SITEMAPS,
    FaultServer,
    held_port,
    install_fault_site,
)
from tests.services import rows

pytestmark = pytest.mark.slow

MAX_PAGE_BYTES = 300_000
TIMEOUT = 1.5

# path -> (kind, HTTP status, a fragment of the reason)
BAD: dict[str, tuple[str, int | None, str]] = {
    "/news/gone-404": ("http", 404, "HTTP 404"),
    "/news/gone-410": ("http", 410, "HTTP 410"),
    "/news/error-500": ("http", 500, "HTTP 500"),
    "/news/busy-429": ("http", 429, "Retry-After 1 s"),
    "/news/down-503": ("http", 503, "Retry-After 3600 s"),
    "/news/hang": ("timeout", None, "took longer than 1.5 seconds"),
    "/news/trickle": ("timeout", None, "took longer than 1.5 seconds"),
    "/news/cut-short": ("truncated", None, "cut short"),
    "/news/reset": ("connection", None, "reset"),
    "/news/empty": ("empty", 200, "empty response body"),
    "/news/loop-a": ("redirect", None, "redirect loop"),
    "/news/loop-self": ("redirect", None, "redirect loop"),
    "/news/moved-away": ("redirect", None, "outside the source's domains"),
    "/news/to-metadata": ("redirect", None, "169.254.169.254 is outside the source's domains"),
    "/news/report-pdf": ("not-html", 200, "application/pdf"),
    "/news/photo-jpg": ("not-html", 200, "image/jpeg"),
    "/news/clip-video": ("not-html", 200, "video/mp4"),
    "/news/huge": ("too-large", None, "max_page_bytes"),
    "/news/gzip-bomb": ("too-large", None, "gzip bomb"),
    "/news/comment-only": ("extraction", 200, "not parsable as HTML"),
    "/news/binary-junk": ("not-html", 200, "binary data"),
}
BAD_FEEDS: dict[str, tuple[str, str]] = {
    "/feeds/empty.xml": ("feed", "empty feed"),
    "/feeds/html.xml": ("feed", "HTML page, not XML"),
    "/feeds/garbage.xml": ("feed", "malformed feed"),
    "/sitemaps/html.xml": ("sitemap", "HTML page, not XML"),
    "/sitemaps/bomb.xml.gz": ("sitemap", "expands past"),
    "/feeds/truncated.xml": ("feed", "malformed feed, 3 entries recovered"),
    "/feeds/laughs.xml": ("feed", "amplification"),  # libxml2 refuses; nothing expanded
}


@pytest.fixture
def fault_site() -> Iterator[tuple[FaultServer, int]]:
    with held_port() as refused, FaultServer() as srv:
        install_fault_site(srv, max_page_bytes=MAX_PAGE_BYTES, refused_port=refused)
        yield srv, refused


def _crawl(cli: Any, config: Path) -> Any:
    proc = cli("crawl", "--config", str(config), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _source(srv: FaultServer) -> dict[str, Any]:
    return {
        "name": "faults",
        "feeds": [srv.url(p) for p in FAULT_FEEDS],
        "sitemaps": [srv.url(p) for p in FAULT_SITEMAPS],
        "allowed_domains": ["127.0.0.1"],
        "article_urls": ["/news/"],
    }


def test_a_crawl_of_every_fault_archives_the_good_and_records_the_bad(
    fault_site: tuple[FaultServer, int], write_config: Any, cli: Any, database_url: str
) -> None:
    srv, refused = fault_site
    config = write_config(
        [_source(srv)],
        timeout=TIMEOUT,
        max_page_bytes=MAX_PAGE_BYTES,
        concurrency_per_domain=16,
        extract_timeout=20,
    )
    _crawl(cli, config)
    articles = dict(rows(database_url, "SELECT url, text FROM articles"))
    failures = rows(database_url, "SELECT url, kind, status, reason FROM failures")
    [(status, skipped)] = rows(database_url, "SELECT status, articles_skipped FROM runs")
    if database_url.startswith("sqlite"):
        assert rows(database_url, "PRAGMA integrity_check") == [("ok",)]
    assert status == "partial"
    # 50,000 nested divs: the parser stops at depth 255, no article is found, the run goes on
    assert skipped >= 1 and srv.url("/news/nested") not in articles

    # every good article is archived, and only those
    good = {srv.url(f"/news/good-{i}") for i in (1, 2, 3)} | {srv.url(p) for p in ENCODED}
    good |= {srv.url("/news/unclosed")}  # unclosed tags: lxml recovers the article
    assert set(articles) == good, sorted(set(articles) ^ good)

    # no mojibake: each sentence comes back exactly, in UTF-8
    for path, (_codec, _ctype, sentence) in ENCODED.items():
        text = articles[srv.url(path)]
        assert sentence in text, (path, text[:300])
        assert "\ufffd" not in text and "Ã" not in text, path

    # every bad page is recorded once, with its kind and reason
    by_url = {url: (kind, st, reason) for url, kind, st, reason in failures}
    assert len(by_url) == len(failures), "a URL was recorded twice"
    for path, (kind, st, fragment) in BAD.items():
        got = by_url.get(srv.url(path))
        assert got is not None, f"{path} not recorded; failures: {failures}"
        assert got[0] == kind and got[1] == st and fragment in got[2], (path, got)
    refused_url = f"http://127.0.0.1:{refused}/news/refused"
    assert by_url[refused_url][:2] == ("connection", None)
    assert "refused" in by_url[refused_url][2]
    for path, (kind, fragment) in BAD_FEEDS.items():
        got = by_url.get(srv.url(path))
        assert got is not None and got[0] == kind and fragment in got[2], (path, got)
    # a feed over max_page_bytes has its own, larger cap (issue 20): read whole, no failure
    assert srv.url("/feeds/enormous.xml") not in by_url

    # 404/410 are not retried; 500 is (twice); the self-referencing index is read once
    assert srv.count("/news/gone-404") == 1 and srv.count("/news/gone-410") == 1
    assert srv.count("/news/error-500") == 3
    assert srv.count("/sitemaps/self-index.xml") == 1
    # entities are never expanded or fetched, nor external DTDs, nor other domains
    assert not [p for p in srv.paths() if p.startswith("/secret/")]
    assert not [h for h in srv.hits if not h.host.startswith("127.0.0.1")]
    assert srv.count("/news/good-1") == 1, "a redirect to another host was followed"


def test_retry_after_is_honoured_on_later_runs(
    fault_site: tuple[FaultServer, int], write_config: Any, cli: Any, database_url: str
) -> None:
    srv, _ = fault_site
    source = {
        "name": "faults",
        "feeds": [srv.url("/feed.xml")],
        "allowed_domains": ["127.0.0.1"],
        "article_urls": ["/news/(good-1|busy-429|down-503)$"],
    }
    config = write_config([source], timeout=TIMEOUT, max_page_bytes=MAX_PAGE_BYTES)
    _crawl(cli, config)
    assert srv.count("/news/busy-429") == 1 and srv.count("/news/down-503") == 1
    waiting = dict(rows(database_url, "SELECT url, attempts FROM backoff"))
    assert waiting == {srv.url("/news/busy-429"): 1, srv.url("/news/down-503"): 1}

    time.sleep(1.2)  # the 429 asked for 1 s; the 503 for an hour
    _crawl(cli, config)
    assert srv.count("/news/busy-429") == 2, "the 429 URL was not retried once due"
    assert srv.count("/news/down-503") == 1, "the 503 URL was fetched before its Retry-After"
    urls = {u for (u,) in rows(database_url, "SELECT url FROM articles")}
    waiting = dict(rows(database_url, "SELECT url, attempts FROM backoff"))
    assert srv.url("/news/busy-429") in urls
    assert waiting == {srv.url("/news/down-503"): 1}, "a stored URL is no longer put off"
