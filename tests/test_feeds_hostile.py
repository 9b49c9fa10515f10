"""Hostile feeds and sitemaps, parsed directly: entities are never expanded, files and URLs they
name are never read, broken documents say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import CrawlError
from crawler.feeds import parse_feed, parse_sitemap

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10))
    + '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    '<rss><channel><item><title>&lol9;</title><link>http://a.example/1</link></item>'
    "</channel></rss>"
)


def test_billion_laughs_is_not_expanded() -> None:
    try:
        entries = parse_feed(LAUGHS.encode())
    except CrawlError:
        return  # refused outright is fine too
    assert all("lollol" not in e.url for e in entries)
    assert entries.problem is None or "amplification" in entries.problem


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>http://a.example/&x;</loc></url><url><loc>http://a.example/ok</loc></url>"
        "</urlset>"
    )
    doc = parse_sitemap(body.encode())
    assert all("TOP-SECRET" not in e.url for e in doc.entries)
    assert "http://a.example/ok" in [e.url for e in doc.entries]


def test_a_truncated_feed_gives_what_it_holds_and_says_so() -> None:
    whole = (
        '<?xml version="1.0"?><rss><channel>'
        + "".join(f"<item><link>http://a.example/{i}</link></item>" for i in range(5))
        + "</channel></rss>"
    )
    entries = parse_feed(whole[:-40].encode())
    assert [e.url for e in entries][:4] == [f"http://a.example/{i}" for i in range(4)]
    assert entries.problem and "line 1" in entries.problem
    assert parse_feed(whole.encode()).problem is None


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty feed"),
        (b"   \n", "empty feed"),
        (b"<html><body>moved</body></html>", "HTML page"),
        (b"\x00\x01\x02garbage", "malformed feed"),
        (b"<?xml version='1.0'?><urlset/>", "not a feed"),
    ],
)
def test_unusable_feeds_raise_crawl_error(body: bytes, message: str) -> None:
    with pytest.raises(CrawlError, match=message):
        parse_feed(body)


def test_entries_past_the_cap_are_left_with_a_reason() -> None:
    from crawler.feeds import MAX_ENTRIES, cut_to_entries

    urls = "".join(f"<url><loc>http://a.example/{i}</loc></url>" for i in range(MAX_ENTRIES + 2))
    doc = parse_sitemap(f"<urlset>{urls}</urlset>".encode())
    assert len(doc.entries) == MAX_ENTRIES and doc.problem and "only the first" in doc.problem
    cut = b"<urlset><url><loc>http://a.example/1</loc></url><url><loc>http://a.exa"
    assert [e.url for e in parse_sitemap(cut_to_entries(cut)).entries] == ["http://a.example/1"]
