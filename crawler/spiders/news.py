"""The spider for one news source: feeds, sitemaps and start pages lead to article pages.

It only fetches and follows links. Every fetched article candidate becomes an
:class:`~crawler.items.ArticleItem` (raw HTML); every URL that fails becomes a
:class:`~crawler.items.FailureItem`. Which links are articles is decided here by the source's
``article_urls`` patterns (or a URL heuristic when it has none); whether a page really is an
article is decided later by extraction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from common.config import Source
from common.dates import parse_when
from common.decode import looks_binary, page_encoding
from common.errors import CrawlError
from common.fetchstate import SourceState
from common.runs import count
from common.urls import LISTING_WORDS, canonical_url, host_in, variant_reason
from crawler.feeds import (
    MAX_LISTING_BYTES,
    FeedEntry,
    cut_to_entries,
    maybe_gunzip,
    parse_feed,
    parse_sitemap,
)
from crawler.incremental import Decision, Incremental
from crawler.items import AliasItem, ArticleItem, FailureItem, NotModifiedItem
from crawler.middlewares import BlockedRequest, RedirectLoop, RefusedRedirect

__all__ = ["NewsSpider", "looks_like_article", "newest_first"]

# listings, and pages of the site itself (feeds, shop, legal), and files that are not pages
_SITE_PAGES = (
    r"section|subscribe|feed|rss|page|wp-admin|wp-login\.php|cart|privacy|terms|contact|about"
)
_NOT_ARTICLE = re.compile(
    rf"/({'|'.join(LISTING_WORDS)}|{_SITE_PAGES})(/|$|\?|\.)"
    r"|[?&](s|q|page|replytocom)=|\.(jpe?g|png|gif|webp|svg|pdf|mp[34]|zip|css|js|xml)$",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}", re.IGNORECASE)
_SHORT_SLUG = re.compile(r"/[^/]+/[a-z0-9]+(?:[-_][a-z0-9]+)+(?:\.html?|/)?$", re.IGNORECASE)
_DATE = re.compile(r"/(19|20)\d{2}/\d{1,2}/")
_ID = re.compile(r"/\d{3,}(?:/|\.html?$|$)")
_MAX_SITEMAP_DEPTH = 4
_SKIP = object()  # _article: an article URL, but not fetched now (queued, not due, over limit)


def looks_like_article(url: str) -> bool:
    """A URL heuristic for sources without ``article_urls``: dated paths, long slugs, ids."""
    path = urlsplit(url).path
    if _NOT_ARTICLE.search(url) or path in ("", "/"):
        return False
    return bool(
        _DATE.search(path) or _SLUG.search(path) or _ID.search(path) or _SHORT_SLUG.search(path)
    )


_TOO_LARGE = "larger than crawl.max_page_bytes; refused"


def newest_first(entries: Sequence[FeedEntry], *, listed_oldest_first: bool) -> list[Any]:
    """A listing's entries in the order a news archive wants them when it cannot take them all
    (``crawl.max_pages_per_run``): those with a date (``lastmod``, a news sitemap's publication
    date, a feed entry's date) newest first; entries of the same date, and undated ones after
    them, by their place in the listing, latest place first when the listing is
    ``listed_oldest_first`` (a sitemap's urlset: sites append new URLs), else first place
    first (feeds list their newest entry first)."""

    def key(item: tuple[int, FeedEntry]) -> tuple[bool, float, int]:
        place, entry = item
        when = parse_when(entry.lastmod)
        stamp = when.timestamp() if when is not None else 0.0
        return when is not None, stamp, place if listed_oldest_first else -place

    return [entry for _, entry in sorted(enumerate(entries), key=key, reverse=True)]


def _retry_after(value: bytes | None) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); 0 if absent or bad."""
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    when = parse_when(text)
    if when is None:
        return 0.0
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _is(failure: Failure, *types: type[BaseException]) -> bool:
    """``failure.check`` with a type (Twisted leaves it untyped)."""
    return failure.check(*types) is not None  # type: ignore[no-untyped-call]


def _classify(failure: Failure) -> tuple[str, int | None, str]:
    """(kind, HTTP status, reason) of a failed request."""
    exc = failure.value
    if _is(failure, HttpError):
        status = cast(HttpError, exc).response.status
        return "http", status, f"HTTP {status}"
    if _is(failure, BlockedRequest):
        return "blocked", None, str(exc)
    if _is(failure, RedirectLoop, RefusedRedirect):
        return "redirect", None, str(exc)
    if _is(failure, IgnoreRequest):
        text = str(exc)
        if "DOWNLOAD_MAXSIZE" in text:  # HttpCompressionMiddleware: a decompression bomb
            return "too-large", None, f"decompressed body {_TOO_LARGE} (gzip bomb?)"
        if "max redirections" in text:
            return "redirect", None, "too many redirects"
        return "ignored", None, text or "ignored (robots.txt or a download rule)"
    if _is(failure, CancelledError, DownloadCancelledError):
        return "too-large", None, f"download cancelled: {_TOO_LARGE}"
    if _is(failure, DNSLookupError, CannotResolveHostError):
        return "dns", None, f"DNS lookup failed: {exc}"
    if _is(failure, TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timeout", None, f"timed out: {exc}"
    if _is(failure, ConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection", None, "connection refused"
    if _is(failure, ResponseDataLossError):
        return "truncated", None, "response cut short: fewer bytes than its Content-Length"
    if _is(failure, ConnectionLost, ConnectionDone):
        return "connection", None, "connection lost before the response was complete"
    name, text = type(exc).__name__, str(exc)
    if "ConnectionLost" in text or "ConnectionDone" in text or "reset" in text.lower():
        return "connection", None, "connection reset or lost before the response was complete"
    return "connection", None, f"{name}: {text}"


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        source: Source,
        limit: int | None = None,
        fetch_state: SourceState | None = None,
        **kwargs: Any,
    ) -> None:
        """``fetch_state``: the source's state, handed in by the orchestration and handed back
        to it (the listings' validators of this run). Its ``waiting`` URLs, put off until a
        time (a server's Retry-After), are not fetched. (Not ``state``: Scrapy's JOBDIR
        extension owns ``spider.state``.)"""
        super().__init__(name=f"news:{source.name}", **kwargs)
        self.source = source
        self.fetch_state = fetch_state if fetch_state is not None else SourceState()
        self.waiting = self.fetch_state.waiting
        self.allowed_domains = list(source.domains)
        self.patterns = [re.compile(p) for p in source.article_urls]
        self.limit = limit
        # 16-byte digests of the article URLs queued so far: compact, as it grows with the site.
        self._queued: set[bytes] = set()
        self._over_cap: set[bytes] = set()  # digests of article URLs left over by the cap
        self._sitemaps: set[str] = set()  # sitemap URLs requested so far
        self._aliased: set[str] = set()
        self.incremental: Incremental | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        cap = crawler.settings.getint("NEWSVAULT_MAX_PAGES", 0)
        if cap and (spider.limit is None or spider.limit > cap):
            spider.limit = cap
        spider._max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE") or 50_000_000
        spider._listing_bytes = max(spider._max_bytes, MAX_LISTING_BYTES)
        crawler.signals.connect(spider._bytes_received, signal=signals.bytes_received)
        try:
            spider.incremental = Incremental.from_crawler(crawler, spider.fetch_state)
        except NotConfigured:
            spider.incremental = None
        return spider

    _max_bytes = 50_000_000
    _listing_bytes = MAX_LISTING_BYTES

    def _bytes_received(self, data: bytes, request: Any, spider: Any) -> None:
        """Feeds and sitemaps have their own cap (:data:`~crawler.feeds.MAX_LISTING_BYTES`, or
        ``max_page_bytes`` if larger): the download stops there and what was read is used."""
        meta = request.meta
        if meta.get("kind") not in ("feed", "sitemap"):
            return
        meta["listing_read"] = meta.get("listing_read", 0) + len(data)
        if meta["listing_read"] > self._listing_bytes:
            raise StopDownload(fail=False)

    def _listing_body(self, response: Response) -> tuple[bytes, bool]:
        """A feed's or sitemap's body, and whether it was cut at the cap (then up to its last
        complete entry)."""
        body = maybe_gunzip(response.body, self._listing_bytes)
        if "download_stopped" not in response.flags:
            return body, False
        return cut_to_entries(body), True

    def _cut(self, response: Response, what: str, found: int) -> FailureItem:
        reason = (
            f"{what} larger than {self._listing_bytes} bytes: cut there; the {found} entries "
            "read before the cut are used"
        )
        return FailureItem(response.url, self.source.name, f"{what}-too-large", reason, 200)

    # -- entry points --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        src = self.source
        for url in src.feeds:
            if url not in self.waiting:  # a feed's server may ask us to wait too
                yield self._request(url, self.parse_feed, priority=100, kind="feed")
        for url in src.sitemaps:
            if url not in self.waiting:
                self._sitemaps.add(url)
                yield self._request(url, self.parse_sitemap, priority=90, kind="sitemap")
        if not src.feeds and not src.sitemaps:
            hosts = dict.fromkeys(
                f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in src.start_urls
            )
            for base in hosts:
                yield self._request(
                    base + "/robots.txt", self.parse_robots, priority=95, kind="robots"
                )
        for url in src.start_urls:
            yield self._request(url, self.parse_start, priority=80, kind="start")
        if self.incremental is not None:
            for url in self.incremental.due():
                for out in self._follow(url, from_listing=True, known=True):
                    yield out

    def _request(self, url: str, callback: Any, *, priority: int, kind: str, **meta: Any) -> Any:
        if kind in ("feed", "sitemap"):  # cut at _listing_bytes; this bounds the gzip form
            meta.setdefault("download_maxsize", self._listing_bytes * 4)
        request = scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta={"kind": kind, **meta},
        )
        if self.incremental is not None and kind in ("feed", "sitemap", "start"):
            self.incremental.listing(request)
        return request

    def _unchanged(self, response: Response) -> bool:
        """True when a listing answered 304 Not Modified: nothing in it is new."""
        return self.incremental is not None and self.incremental.listing_unchanged(response)

    def _follow(
        self, url: str, *, from_listing: bool, lastmod: str | None = None, known: bool = False
    ) -> Iterator[Any]:
        """The request for an article link, and an AliasItem when the link is a tracking, amp
        or print variant of the article's URL."""
        req = self._article(url, from_listing=from_listing, lastmod=lastmod, known=known)
        if req is None:
            return
        reason = variant_reason(url)
        raw = url.split("#", 1)[0]
        if reason and raw not in self._aliased:
            self._aliased.add(raw)
            target = canonical_url(url)
            yield AliasItem(url=raw, target=target, source=self.source.name, reason=reason)
        if req is not _SKIP:
            yield req

    def is_article_url(self, url: str) -> bool:
        if self.patterns:
            return any(p.search(url) for p in self.patterns)
        return looks_like_article(url)

    def _article(
        self, url: str, *, from_listing: bool, lastmod: str | None = None, known: bool = False
    ) -> Any:
        """A request for an article URL; None if it is off-site or not an article; ``_SKIP`` if
        it is queued already, not due or over the limit. ``known``: a stored article's re-check."""
        url = canonical_url(url)
        parts = urlsplit(url)
        on_site = host_in(parts.hostname, self.allowed_domains)
        if parts.scheme not in ("http", "https") or not on_site:
            return None
        if not known:
            if not from_listing and not self.is_article_url(url):
                return None
            if from_listing and self.patterns and not self.is_article_url(url):
                return None
        digest = hashlib.blake2b(url.encode(), digest_size=16).digest()
        if digest in self._queued:
            return _SKIP
        if url in self.waiting:
            self.logger.info("%s: not before %s (server asked to wait)", url, self.waiting[url])
            self.crawler.stats.inc_value("newsvault/waiting")
            return _SKIP
        inc = self.incremental
        if inc is not None and not known and inc.decide(url, lastmod) is Decision.NOT_DUE:
            return _SKIP
        if self.limit is not None and len(self._queued) >= self.limit:
            self.crawler.stats.inc_value("newsvault/over_limit")
            if digest not in self._over_cap:  # each URL left for the next run counted once
                self._over_cap.add(digest)
                count(self.crawler.stats, "urls_over_cap")
            return _SKIP
        self._queued.add(digest)
        req = self._request(url, self.parse_article, priority=0, kind="article", lastmod=lastmod)
        return inc.article(req) if inc is not None else req

    # -- callbacks -----------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if self._unchanged(response):
            return
        try:
            body, cut = self._listing_body(response)
            entries = parse_feed(body)
        except CrawlError as exc:
            yield FailureItem(response.url, self.source.name, "feed", str(exc), response.status)
            return
        if cut:
            yield self._cut(response, "feed", len(entries))
        elif entries.problem:
            yield self._broken(response, "feed", len(entries), entries.problem)
        for entry in newest_first(entries, listed_oldest_first=False):
            url = urljoin(response.url, entry.url)
            yield from self._follow(url, from_listing=True, lastmod=entry.lastmod)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Queue the articles of a urlset; read an index's sitemaps one after another. Both go
        newest first (:func:`newest_first`), so a run cut by the page cap leaves the oldest.

        The sitemaps of an index are chained (each request carries the rest in its meta) and
        the next is fetched at a priority below the articles, so only one urlset's articles
        wait in memory at a time, however large the site.
        """
        rest: list[tuple[str, int]] = list(response.meta.get("sitemap_rest", ()))
        if self._unchanged(response):
            yield from self._next_sitemap(rest)
            return
        try:
            body, cut = self._listing_body(response)
            doc = parse_sitemap(body)
        except CrawlError as exc:
            yield FailureItem(response.url, self.source.name, "sitemap", str(exc), response.status)
            yield from self._next_sitemap(rest)
            return
        if cut:
            yield self._cut(response, "sitemap", len(doc.entries))
        elif doc.problem:
            yield self._broken(response, "sitemap", len(doc.entries), doc.problem)
        depth = int(response.meta.get("sitemap_depth", 0))
        children: list[tuple[str, int]] = []
        # a urlset's entries are taken as listed oldest first (sites append); an index's sitemaps
        # keep their order unless their lastmod says otherwise (their order is often by kind)
        for entry in newest_first(doc.entries, listed_oldest_first=doc.kind != "index"):
            url = urljoin(response.url, entry.url)
            if doc.kind == "index":
                if depth < _MAX_SITEMAP_DEPTH and host_in(
                    urlsplit(url).hostname, self.allowed_domains
                ):
                    children.append((url, depth + 1))
            else:
                yield from self._follow(url, from_listing=True, lastmod=entry.lastmod)
        yield from self._next_sitemap(children + rest, priority=90 if children else -1)

    def _next_sitemap(self, chain: list[tuple[str, int]], priority: int = -1) -> Iterator[Any]:
        # Skip what was asked for already; the request itself bypasses Scrapy's duplicate filter,
        # which would otherwise drop it, and the rest of the chain with it. Nesting is bounded by
        # sitemap_depth (_MAX_SITEMAP_DEPTH), cycles by the set of sitemaps seen.
        while chain and chain[0][0] in self._sitemaps:
            chain = chain[1:]
        if chain:
            (url, depth), rest = chain[0], chain[1:]
            self._sitemaps.add(url)
            req = self._request(
                url,
                self.parse_sitemap,
                priority=priority,
                kind="sitemap",
                sitemap_depth=depth,
                sitemap_rest=rest,
                depth_reset=True,  # a chain is not link depth: DEPTH_LIMIT must not cut it
            )
            yield req.replace(dont_filter=True)

    def _broken(self, response: Response, what: str, found: int, problem: str) -> FailureItem:
        reason = f"malformed {what}, {found} entries recovered: {problem}"
        return FailureItem(response.url, self.source.name, what, reason, response.status)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for line in response.text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                url = urljoin(response.url, value.strip())
                if host_in(urlsplit(url).hostname, self.allowed_domains) and (
                    url not in self._sitemaps
                ):
                    self._sitemaps.add(url)
                    yield self._request(url, self.parse_sitemap, priority=90, kind="sitemap")

    def parse_start(self, response: Response) -> Iterator[Any]:
        if self._unchanged(response) or not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            yield from self._follow(urljoin(response.url, href.strip()), from_listing=False)

    def parse_article(self, response: Response) -> Iterator[Any]:
        if response.status == 304:  # a conditional re-check: unchanged since the last fetch
            yield NotModifiedItem(
                url=response.url,
                source=self.source.name,
                fetched_at=datetime.now(UTC),
                lastmod=response.meta.get("lastmod"),
            )
            return
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        failure = self._unusable(response, ctype)
        if failure is not None:
            yield FailureItem(response.url, self.source.name, *failure, response.status)
            return
        headers = {
            k.decode("latin-1"): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items()
        }
        yield ArticleItem(
            url=response.url,
            source=self.source.name,
            fetched_at=datetime.now(UTC),
            status=response.status,
            html=response.body,
            headers=headers,
            encoding=page_encoding(response.body, ctype, getattr(response, "encoding", None)),
            request_url=response.request.url if response.request else None,
            lastmod=response.meta.get("lastmod"),
        )

    @staticmethod
    def _unusable(response: Response, ctype: str) -> tuple[str, str] | None:
        """(kind, reason) when a fetched article page cannot be an article at all."""
        if not response.body.strip():
            return "empty", f"empty response body (HTTP {response.status})"
        if not isinstance(response, TextResponse) or (
            ctype and "html" not in ctype and "xml" not in ctype
        ):
            return "not-html", f"not an HTML page (Content-Type: {ctype or 'none'})"
        if looks_binary(response.body):
            return "not-html", f"binary data, not an HTML page (Content-Type: {ctype or 'none'})"
        return None

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = getattr(failure, "request", None)
        kind, status, reason = _classify(failure)
        if request is not None and request.meta.get("sitemap_rest"):
            yield from self._next_sitemap(list(request.meta["sitemap_rest"]))  # keep the chain
        if kind == "ignored":
            self.logger.info(reason)
            return
        what = request.meta.get("kind", "page") if request is not None else "page"
        if what == "robots":
            return  # a site without robots.txt is normal
        redirects = request.meta.get("redirect_urls", []) if request is not None else []
        url = redirects[0] if redirects else (request.url if request is not None else "?")
        if redirects and kind == "blocked":
            kind, reason = "redirect", f"redirect not followed: {reason}"
        retry_after = None
        if status in (429, 503):
            response = cast(HttpError, failure.value).response
            retry_after = _retry_after(response.headers.get(b"Retry-After"))
            reason += f" (Retry-After {retry_after:g} s)" if retry_after else " (back off)"
        if what in ("feed", "sitemap", "start"):
            kind = f"{what}-{kind}"
        yield FailureItem(url, self.source.name, kind, reason, status, retry_after)
