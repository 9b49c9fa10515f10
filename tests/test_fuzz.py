"""Generated junk never escapes as an undocumented exception, and never hangs.

- ``pipeline.extract.extract_article`` raises only ExtractionError (NotAnArticle included);
- ``crawler.feeds.parse_feed`` / ``parse_sitemap`` / ``maybe_gunzip`` raise only CrawlError;
- ``common.decode.page_encoding`` / ``decode_page`` / ``looks_binary`` never raise, and the
  codec named exists.

Inputs are bounded (a few KB), and each example has a deadline, so a hang fails the test.
"""

from __future__ import annotations

import codecs
import gzip
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.decode import decode_page, looks_binary, page_encoding
from common.errors import CrawlError, ExtractionError
from crawler.feeds import maybe_gunzip, parse_feed, parse_sitemap
from pipeline.extract import extract_article

HTML_BITS = [
    "<html>", "</html>", "<head>", "<body>", "</body>", "<div>", "</div>", "<p>", "</p>",
    "<article>", "</article>", "<script>", "</script>", "<style>", "<table><tr><td>",
    "<!--", "-->", "<![CDATA[", "]]>", "<br/>", "<img src=x onerror=alert(1)>", "&amp;", "&#0;",
    "&#x110000;", "&bogus;", "<meta charset='utf-16'>", "<?xml version='1.0' encoding='latin1'?>",
    "<title>", "</title>", '<link rel="canonical" href="javascript:alert(1)">', "\x00", "\ufeff",
    "<h1>", "</h1>", "<svg><foreignObject>", "<math>", "<template>", "<frameset>", " ", "\n",
    "The harbour board met on Tuesday to discuss the ferry timetable for the winter. ",
]
XML_BITS = [
    "<?xml version='1.0'?>", "<?xml version='1.0' encoding='utf-16'?>", "<rss>", "</rss>",
    "<channel>", "</channel>", "<item>", "</item>", "<link>", "</link>", "<entry>", "</entry>",
    '<link href="http://a.example/x"/>', "<guid>", "</guid>", "<feed>", "</feed>",
    "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>", "</rdf:RDF>",
    "<urlset>", "</urlset>", "<sitemapindex>", "</sitemapindex>", "<url>", "</url>", "<sitemap>",
    "</sitemap>", "<loc>", "</loc>", "<lastmod>", "</lastmod>", "http://a.example/2026/11/x",
    "<!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>", "&a;",
    "&b;", '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/never.dtd">', "<![CDATA[", "]]>", "\x00",
    "<!--", "-->", "&#xD800;", "<html>", "<a:b xmlns:a='x'>", "</a:b>", " ", "\n",
]


def _soup(bits: list[str], size: int) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(bits), st.text(max_size=20))
    return st.lists(piece, max_size=size).map("".join)


html_junk = st.one_of(
    _soup(HTML_BITS, 300),
    st.text(max_size=3000),
    st.binary(max_size=3000).map(lambda b: b.decode("latin-1")),
)
xml_junk = st.one_of(
    _soup(XML_BITS, 300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=4000),
)

FAST = settings(
    max_examples=300, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow]
)
SLOW = settings(
    max_examples=120, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """The first extraction imports trafilatura; keep that out of the deadline."""
    try:
        extract_article("<html><body><p>warm</p></body></html>", "http://a.example/")
    except ExtractionError:
        pass


@SLOW
@given(html=html_junk)
def test_extraction_raises_only_extraction_errors(html: str) -> None:
    try:
        article = extract_article(html, "http://a.example/2026/11/story")
    except ExtractionError:
        return
    assert isinstance(article.text, str) and article.text.strip()


@SLOW
@given(body=st.binary(max_size=3000))
def test_extraction_of_raw_bytes(body: bytes) -> None:
    try:
        extract_article(body, "http://a.example/2026/11/story")
    except ExtractionError:
        pass


@FAST
@given(body=xml_junk)
def test_feed_parsing_raises_only_crawl_errors(body: bytes) -> None:
    try:
        entries = parse_feed(body)
    except CrawlError:
        return
    assert all(isinstance(e.url, str) and e.url for e in entries)


@FAST
@given(body=xml_junk)
def test_sitemap_parsing_raises_only_crawl_errors(body: bytes) -> None:
    try:
        doc = parse_sitemap(body)
    except CrawlError:
        return
    assert doc.kind in ("index", "urlset")


@FAST
@given(payload=st.binary(max_size=3000), cut=st.integers(min_value=0, max_value=4000))
def test_gunzip_of_broken_gzip_raises_only_crawl_errors(payload: bytes, cut: int) -> None:
    body = gzip.compress(payload)[:cut]
    try:
        out = maybe_gunzip(body, max_size=10_000)
    except CrawlError:
        return
    assert len(out) <= 10_000 + 65_536  # never much past the cap


@FAST
@given(body=st.binary(max_size=3000), ctype=st.text(max_size=60))
def test_encoding_detection_never_raises(body: bytes, ctype: str) -> None:
    codec = page_encoding(body, ctype)
    codecs.lookup(codec)
    body.decode(codec, errors="replace")
    decode_page(body, ctype)
    looks_binary(body)
