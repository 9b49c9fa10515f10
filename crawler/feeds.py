"""Reading feeds (RSS 2.0, RSS 1.0, Atom) and sitemaps (indexes, urlsets, news sitemaps, gzip).

Parsing never resolves entities and never touches the network: a billion-laughs document or an
external entity is read as text, not expanded or fetched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from common.errors import CrawlError

__all__ = [
    "MAX_ENTRIES",
    "MAX_LISTING_BYTES",
    "FeedEntries",
    "FeedEntry",
    "SitemapDoc",
    "cut_to_entries",
    "maybe_gunzip",
    "parse_feed",
    "parse_sitemap",
]

#: entries read from one feed or sitemap (the sitemap protocol allows 50,000 URLs)
MAX_ENTRIES = 100_000
#: bytes read from one feed or sitemap, whatever ``crawl.max_page_bytes`` says: at least the
#: sitemap protocol's 50 MB (uncompressed); a longer document is cut there and what was read
#: before the cut is used
MAX_LISTING_BYTES = 52_428_800
_TOO_MANY = f"more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} read"
_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(?:url|sitemap|item|entry)\s*>")


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


_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "recover": True,
    "remove_comments": True,
    "remove_pis": True,
}


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


class _Stream:
    """A document read element by element (lxml ``iterparse``): each entry is handed over once
    it is complete, then freed, so a 50 MB sitemap never becomes a 50 MB tree. ``kind``: the
    root element's name; ``problem``: the first fatal error recovered from, once read."""

    def __init__(self, body: bytes, what: str) -> None:
        if not body.strip():
            raise CrawlError(f"empty {what}")
        self._events = etree.iterparse(
            io.BytesIO(body), events=("start", "end"), **_PARSER_OPTIONS
        )
        self.problem: str | None = None
        try:
            _, self.root = next(self._events)
        except (StopIteration, etree.XMLSyntaxError) as exc:
            raise CrawlError(f"malformed {what}: {str(exc) or 'no XML document'}") from None
        self.kind = _local(self.root.tag)
        if self.kind == "html":
            raise CrawlError(f"{what} is an HTML page, not XML")

    def entries(self, names: frozenset[str], *, top: bool = False) -> Iterator[etree._Element]:
        """Complete elements named one of ``names`` (only children of the root with ``top``);
        each is cleared once the caller moves on."""
        try:
            for event, el in self._events:
                if event != "end" or _local(el.tag) not in names:
                    continue
                parent = el.getparent()
                if top and parent is not self.root:
                    continue
                yield el
                el.clear(keep_tail=True)
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            self.problem = str(exc)
        fatal = [e for e in self._events.error_log if e.level_name == "FATAL"]
        if fatal and self.problem is None:
            self.problem = f"line {fatal[0].line}: {fatal[0].message}"


def cut_to_entries(body: bytes) -> bytes:
    """A document cut short, up to the end of its last complete entry (``</url>``,
    ``</sitemap>``, ``</item>``, ``</entry>``), so a URL cut in the middle is never read."""
    tail_start = max(0, len(body) - 1_000_000)
    ends = [m.end() for m in _ENTRY_END.finditer(body, tail_start)]
    return body[: ends[-1]] if ends else body


def parse_feed(body: bytes) -> FeedEntries:
    """Article links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in document order.

    Raises CrawlError for an empty body, an HTML page, or a document with no usable root; a
    feed broken further in gives what could be recovered, with ``problem`` set.
    """
    doc = _Stream(body, "feed")
    kind = doc.kind
    if kind not in ("rss", "rdf", "feed"):
        raise CrawlError(f"not a feed: root element <{kind}>")
    out = FeedEntries()
    for el in doc.entries(frozenset({"item", "entry"})):
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
        if len(out) >= MAX_ENTRIES:
            out.problem = _TOO_MANY
            return out
    out.problem = doc.problem
    return out


def parse_sitemap(body: bytes) -> SitemapDoc:
    """Entries of a sitemap index or urlset (news and image extensions are read as urlsets).

    Raises CrawlError as :func:`parse_feed` does.
    """
    doc = _Stream(body, "sitemap")
    kind = doc.kind
    if kind not in ("sitemapindex", "urlset"):
        raise CrawlError(f"not a sitemap: root element <{kind}>")
    entries: list[FeedEntry] = []
    child_tag = "sitemap" if kind == "sitemapindex" else "url"
    problem = None
    for el in doc.entries(frozenset({child_tag}), top=True):
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
        if len(entries) >= MAX_ENTRIES:
            problem = _TOO_MANY
            break
    problem = problem or doc.problem
    return SitemapDoc("index" if kind == "sitemapindex" else "urlset", tuple(entries), problem)
