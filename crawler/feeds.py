"""Reading feeds (RSS 2.0, RSS 1.0, Atom) and sitemaps (indexes, urlsets, news sitemaps, gzip).

Parsing never resolves entities and never touches the network: a billion-laughs document or an
external entity is read as text, not expanded or fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from pipeline.errors import CrawlError

__all__ = ["FeedEntry", "SitemapDoc", "maybe_gunzip", "parse_feed", "parse_sitemap"]

_MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapDoc:
    """``kind`` is "index" (entries are sitemaps) or "urlset" (entries are pages)."""

    kind: str
    entries: tuple[FeedEntry, ...]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def maybe_gunzip(body: bytes, max_size: int) -> bytes:
    """Decompress a gzip body (refusing more than ``max_size`` bytes), or return it as is."""
    if body[:2] != b"\x1f\x8b":
        return body
    import gzip
    import io
    import zlib

    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
            while chunk := f.read1(65536):
                out.write(chunk)
                if out.tell() > max_size:
                    raise CrawlError(f"gzip body expands past {max_size} bytes; refused")
    except (OSError, EOFError, zlib.error) as exc:
        if out.tell() == 0:
            raise CrawlError(f"broken gzip data: {exc}") from exc
    return out.getvalue()


def _root(body: bytes, what: str) -> etree._Element:
    if not body.strip():
        raise CrawlError(f"empty {what}")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise CrawlError(f"malformed {what}: {exc}") from exc
    if root is None:
        raise CrawlError(f"malformed {what}: no XML document")
    if _local(root.tag) == "html":
        raise CrawlError(f"{what} is an HTML page, not XML")
    return root


def parse_feed(body: bytes) -> list[FeedEntry]:
    """Article links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in document order."""
    root = _root(body, "feed")
    kind = _local(root.tag)
    if kind not in ("rss", "rdf", "feed"):
        raise CrawlError(f"not a feed: root element <{kind}>")
    out: list[FeedEntry] = []
    for el in root.iter():
        name = _local(el.tag)
        if name not in ("item", "entry"):
            continue
        url = None
        date = None
        for child in el:
            cname = _local(child.tag)
            if cname == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate":
                    url = url or href.strip()
                elif child.text and child.text.strip():
                    url = url or child.text.strip()
            elif cname in ("updated", "pubdate", "date", "published", "modified") and child.text:
                date = date or child.text.strip()
        if url is None and kind == "rdf":
            about = el.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            url = about.strip() if about else None
        if url is None:
            for child in el:
                if _local(child.tag) == "guid" and child.get("isPermaLink", "true") != "false":
                    url = (child.text or "").strip() or None
        if url:
            out.append(FeedEntry(url, date))
        if len(out) >= _MAX_ENTRIES:
            break
    return out


def parse_sitemap(body: bytes) -> SitemapDoc:
    """Entries of a sitemap index or urlset (news and image extensions are read as urlsets)."""
    root = _root(body, "sitemap")
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise CrawlError(f"not a sitemap: root element <{kind}>")
    entries: list[FeedEntry] = []
    child_tag = "sitemap" if kind == "sitemapindex" else "url"
    for el in root:
        if _local(el.tag) != child_tag:
            continue
        loc = None
        lastmod = None
        for child in el.iter():
            name = _local(child.tag)
            if name == "loc" and child.text and loc is None:
                loc = child.text.strip()
            elif name in ("lastmod", "publication_date") and child.text and lastmod is None:
                lastmod = child.text.strip()
        if loc:
            entries.append(FeedEntry(loc, lastmod))
        if len(entries) >= _MAX_ENTRIES:
            break
    return SitemapDoc("index" if kind == "sitemapindex" else "urlset", tuple(entries))
