"""Consistency checks for the bundled sample news site (newsvault/demo_site) and its manifest.

These tests only read files: no server, no network, no extraction. They make sure the manifest
(tests/data/demo_site.json), the expected texts (tests/data/expected/) and the site agree, so that
the crawl and extraction tests built on top of them test the crawler, not the fixtures.
"""

from __future__ import annotations

import json
import re
import urllib.robotparser
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "newsvault" / "demo_site"
DATA = ROOT / "tests" / "data"
EXPECTED = DATA / "expected"
MANIFEST = json.loads((DATA / "demo_site.json").read_text(encoding="utf-8"))
ARTICLES: dict[str, dict] = MANIFEST["articles"]
BASE = "http://127.0.0.1:8765"
TOKEN = "__BASE__"
FEED_KINDS = ["feed", "atom", "rss1", "sitemap-posts", "sitemap-news", "sitemap-archive"]


def norm(text: str) -> str:
    return " ".join(text.split())


def site_file(url_path: str) -> Path:
    """The file the demo server serves for a URL path (mirrors the server's rules)."""
    rel = url_path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    path = SITE / rel
    if not path.exists() and rel.endswith(".xml.gz"):
        path = SITE / rel[: -len(".gz")]
    return path


@cache
def served(url_path: str) -> str:
    """Text of a page as the server would send it (``__BASE__`` substituted, not gzipped)."""
    return site_file(url_path).read_text(encoding="utf-8").replace(TOKEN, BASE)


def local_path(url: str, *, keep_query: bool = False) -> str | None:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != BASE:
        return None
    path = parts.path or "/"
    if keep_query:
        if parts.query:
            path += "?" + parts.query
        if parts.fragment:
            path += "#" + parts.fragment
    return path


@cache
def home_links(keep_query: bool = False) -> frozenset[str]:
    doc = lxml_html.fromstring(served("/"))
    urls = [urljoin(BASE + "/", href) for href in doc.xpath("//a/@href")]
    return frozenset(u for u in (local_path(u, keep_query=keep_query) or u for u in urls))


@cache
def listed_paths(kind: str) -> frozenset[str]:
    """Article URL paths listed by one feed or sitemap."""
    root = etree.fromstring(served(MANIFEST["entry_points"][kind]).encode("utf-8"))
    urls: set[str] = set()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = etree.QName(el).localname
        if name in ("link", "loc", "id") and el.text and el.text.strip():
            urls.add(el.text.strip())
        if name == "link" and el.get("href"):
            urls.add(el.get("href"))
        for attr, value in el.attrib.items():
            if etree.QName(attr).localname in ("about", "resource"):
                urls.add(value)
    paths = {local_path(u) for u in urls}
    return frozenset(p for p in paths if p in ARTICLES)


def page_text(url_path: str) -> str:
    doc = lxml_html.fromstring(served(url_path))
    for bad in doc.xpath("//script|//style"):
        bad.drop_tree()
    return norm(doc.text_content())


def expected_text(meta: dict) -> str:
    return (EXPECTED / meta["expected"]).read_text(encoding="utf-8")


XML_FILES = sorted(
    p.relative_to(SITE).as_posix() for p in SITE.rglob("*") if p.suffix in (".xml", ".rdf")
)


@pytest.mark.parametrize("rel", XML_FILES)
def test_xml_parses(rel: str) -> None:
    root = etree.fromstring(served("/" + rel).encode("utf-8"))
    assert TOKEN not in etree.tostring(root, encoding="unicode")


def test_entry_points_exist() -> None:
    assert len(XML_FILES) == 7
    for kind, path in MANIFEST["entry_points"].items():
        assert site_file(path).is_file(), (kind, path)


def test_robots() -> None:
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(served("/robots.txt").splitlines())
    assert rp.site_maps() == [BASE + "/sitemap_index.xml"]
    for path in MANIFEST["disallowed"]:
        assert site_file(path).is_file()
        assert not rp.can_fetch("*", BASE + path)
    for path in list(ARTICLES) + MANIFEST["non_articles"]:
        assert rp.can_fetch("*", BASE + path), path


def test_sitemap_index() -> None:
    root = etree.fromstring(served("/sitemap_index.xml").encode("utf-8"))
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert etree.QName(root).localname == "sitemapindex"
    locs = [local_path(loc) for loc in root.xpath("//sm:sitemap/sm:loc/text()", namespaces=ns)]
    kinds = ("sitemap-posts", "sitemap-news", "sitemap-archive")
    assert locs == [MANIFEST["entry_points"][k] for k in kinds]
    assert not (SITE / "sitemap-archive.xml.gz").exists()  # the server gzips it on the fly
    news = etree.fromstring(served("/sitemap-news.xml").encode("utf-8"))
    nns = {"news": "http://www.google.com/schemas/sitemap-news/0.9"}
    assert len(news.xpath("//news:news/news:publication/news:name", namespaces=nns)) == 4
    assert len(news.xpath("//news:news/news:publication_date", namespaces=nns)) == 4
    assert len(news.xpath("//news:news/news:title", namespaces=nns)) == 4


def test_home_links() -> None:
    links = home_links()
    wanted = (
        list(ARTICLES) + MANIFEST["non_articles"] + MANIFEST["disallowed"] + MANIFEST["external"]
    )
    for path in wanted:
        assert path in links, path
    for variant, clean in MANIFEST["tracking_variants"].items():
        assert variant in home_links(keep_query=True)
        assert clean in links


def test_non_articles_exist() -> None:
    for path in MANIFEST["non_articles"]:
        assert site_file(path).is_file(), path
        assert path not in ARTICLES


def test_each_entry_kind_finds_a_different_subset() -> None:
    subsets = {kind: listed_paths(kind) for kind in FEED_KINDS}
    assert len(set(subsets.values())) == len(subsets)
    assert home_links() >= set(ARTICLES)


def test_manifest_shape() -> None:
    assert len(ARTICLES) == 12
    templates = [meta["template"] for meta in ARTICLES.values()]
    counts = {t: templates.count(t) for t in templates}
    assert counts == {"wordpress": 4, "news_portal": 4, "legacy": 4}
    assert any(meta["language"] != "en" for meta in ARTICLES.values())


@pytest.mark.parametrize("path", sorted(ARTICLES))
def test_article(path: str) -> None:
    meta = ARTICLES[path]
    raw = served(path)
    doc = lxml_html.fromstring(raw)

    # metadata is present in the page
    assert doc.xpath("string(//html/@lang)").lower().startswith(meta["language"])
    assert meta["title"] in doc.xpath("string(//title)")
    assert meta["published"] in raw
    for author in meta["authors"]:
        assert author in raw
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["published"])

    # listed exactly where the manifest says
    for kind in FEED_KINDS:
        assert (path in listed_paths(kind)) == (kind in meta["listed_in"]), kind
    assert ("home" in meta["listed_in"]) == (path in home_links())

    # expected text: file name rule, every paragraph occurs in the page, and no boilerplate
    rel = site_file(path).relative_to(SITE).as_posix()
    assert meta["expected"] == rel.replace("/", "_") + ".txt"
    expected = expected_text(meta)
    assert expected.endswith("\n") and not expected.endswith("\n\n")
    paragraphs = expected.strip().split("\n\n")
    assert len(paragraphs) >= 5
    text = page_text(path)
    for para in paragraphs:
        for line in para.split("\n"):
            assert line == norm(line), line
            assert line in text, line
    assert 250 <= len(expected.split()) <= 600
    assert meta["title"] not in expected
    assert "Share this" not in expected and "newsletter" not in expected.lower()

    if meta["template"] == "news_portal":
        canonical = doc.xpath("//link[@rel='canonical']/@href")
        assert canonical == [BASE + path]
        (ld,) = [json.loads(s) for s in doc.xpath("//script[@type='application/ld+json']/text()")]
        assert ld["@type"] == "NewsArticle"
        assert ld["headline"] == meta["title"]
        assert [a["name"] for a in ld["author"]] == meta["authors"]
        assert ld["datePublished"].startswith(meta["published"])
        assert ld["articleBody"] == expected.strip()
