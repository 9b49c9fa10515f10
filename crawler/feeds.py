"""Reading feeds (RSS 2.0, RSS 1.0, Atom) and sitemaps (indexes, urlsets, news sitemaps, gzip).

Parsing never resolves entities and never touches the network: a billion-laughs document or an
external entity is read as text, not expanded or fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from common.errors import CrawlError

__all__ = ["FeedEntries", "FeedEntry", "SitemapDoc", "maybe_gunzip", "parse_feed", "parse_sitemap"]

_MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    lastmod: str | None = None


class FeedEntries(list[FeedEntry]):
    """A feed's entries. ``problem`` says what was wrong when the document was broken (cut
    short, malformed) and these entries are what could be recovered; None when it was sound."""

    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapDoc:
    """``kind`` is "index" (entries are sitemaps) or "urlset" (entries are pages). ``problem``:
    as for :class:`FeedEntries`."""

    kind: str
    entries: tuple[FeedEntry, ...]
    problem: str | None = None


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


def _root(body: bytes, what: str) -> tuple[etree._Element, str | None]:
    """The document's root, and the first fatal error the parser recovered from (if any)."""
    if not body.strip():
        raise CrawlError(f"empty {what}")
    parser = _parser()
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise CrawlError(f"malformed {what}: {exc}") from exc
    if root is None:
        raise CrawlError(f"malformed {what}: no XML document")
    if _local(root.tag) == "html":
        raise CrawlError(f"{what} is an HTML page, not XML")
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    problem = f"line {fatal[0].line}: {fatal[0].message}" if fatal else None
    return root, problem


def parse_feed(body: bytes) -> FeedEntries:
    """Article links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in document order.

    Raises CrawlError for an empty body, an HTML page, or a document with no usable root; a
    feed broken further in gives what could be recovered, with ``problem`` set.
    """
    root, problem = _root(body, "feed")
    kind = _local(root.tag)
    if kind not in ("rss", "rdf", "feed"):
        raise CrawlError(f"not a feed: root element <{kind}>")
    out = FeedEntries()
    out.problem = problem
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
    """Entries of a sitemap index or urlset (news and image extensions are read as urlsets).

    Raises CrawlError as :func:`parse_feed` does.
    """
    root, problem = _root(body, "sitemap")
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
    return SitemapDoc("index" if kind == "sitemapindex" else "urlset", tuple(entries), problem)
