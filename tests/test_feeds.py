"""Feed and sitemap parsing: every format, and hostile documents read safely."""

from __future__ import annotations

import gzip

import pytest

from common.errors import CrawlError
from crawler.feeds import maybe_gunzip, parse_feed, parse_sitemap

RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>A</title><link>https://e.com/a</link>
<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>B</title><guid>https://e.com/b</guid></item>
<item><title>C</title><guid isPermaLink="false">tag:1</guid></item>
</channel></rss>"""
RSS1 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://e.com/"><title>x</title></channel>
<item rdf:about="https://e.com/one"><title>1</title><link>https://e.com/one</link></item>
<item rdf:about="https://e.com/two"><title>2</title></item></rdf:RDF>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><title>A</title><link rel="self" href="https://e.com/self"/><link href="https://e.com/x"/>
<updated>2026-11-20T10:00:00Z</updated></entry>
<entry><link rel="alternate" type="text/html" href="https://e.com/y"/></entry></feed>"""
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://e.com/s1.xml</loc><lastmod>2026-11-01</lastmod></sitemap>
<sitemap><loc> https://e.com/s2.xml.gz </loc></sitemap></sitemapindex>"""
NEWS = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://e.com/n1</loc>
<news:news><news:publication><news:name>E</news:name><news:language>en</news:language>
</news:publication><news:publication_date>2026-11-28T08:00:00Z</news:publication_date>
<news:title>T</news:title></news:news></url></urlset>"""


def test_rss2() -> None:
    entries = parse_feed(RSS2)
    assert [e.url for e in entries] == ["https://e.com/a", "https://e.com/b"]
    assert entries[0].lastmod == "Mon, 23 Nov 2026 10:00:00 GMT"


def test_rss1() -> None:
    assert [e.url for e in parse_feed(RSS1)] == ["https://e.com/one", "https://e.com/two"]


def test_atom_prefers_alternate_links() -> None:
    entries = parse_feed(ATOM)
    assert [e.url for e in entries] == ["https://e.com/x", "https://e.com/y"]
    assert entries[0].lastmod == "2026-11-20T10:00:00Z"


def test_sitemap_index_and_news_sitemap() -> None:
    doc = parse_sitemap(INDEX)
    assert doc.kind == "index"
    assert [e.url for e in doc.entries] == ["https://e.com/s1.xml", "https://e.com/s2.xml.gz"]
    news = parse_sitemap(NEWS)
    assert news.kind == "urlset"
    assert news.entries[0].url == "https://e.com/n1"
    assert news.entries[0].lastmod == "2026-11-28T08:00:00Z"


def test_gzip_bodies_are_decompressed_within_a_cap() -> None:
    assert parse_sitemap(maybe_gunzip(gzip.compress(NEWS), 10_000)).entries
    bomb = gzip.compress(b"<" + b"a" * 5_000_000 + b">")
    with pytest.raises(CrawlError, match="expands past"):
        maybe_gunzip(bomb, 1_000_000)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty feed"),
        (b"<html><body><p>Not a feed</p></body></html>", "HTML page"),
        (b"<?xml version='1.0'?><notafeed/>", "not a feed"),
        (b"\x00\x01\x02binary", "malformed feed"),
    ],
)
def test_bad_feeds_raise_crawl_error(body: bytes, message: str) -> None:
    with pytest.raises(CrawlError, match=message):
        parse_feed(body)


def test_entities_are_never_expanded_or_fetched() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><item><link>https://e.com/&lol4;</link></item></channel></rss>"""
    entries = parse_feed(laughs)
    assert all(len(e.url) < 100 for e in entries)
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.com/&x;</loc></url></urlset>"""
    doc = parse_sitemap(xxe)
    assert all("root:" not in e.url for e in doc.entries)
