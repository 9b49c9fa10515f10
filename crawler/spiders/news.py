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
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.feeds import maybe_gunzip, parse_feed, parse_sitemap
from crawler.items import ArticleItem, FailureItem
from crawler.middlewares import BlockedRequest
from pipeline.config import Source
from pipeline.errors import CrawlError
from pipeline.urls import canonical_url, host_in

__all__ = ["NewsSpider", "looks_like_article"]

_NOT_ARTICLE = re.compile(
    r"/(tag|tags|category|categories|section|author|authors|search|login|signin|register|"
    r"account|subscribe|feed|rss|page|wp-admin|wp-login\.php|cart|privacy|terms|contact|about)"
    r"(/|$|\?|\.)|[?&](s|q|page|replytocom)=|\.(jpe?g|png|gif|webp|svg|pdf|mp[34]|zip|css|js|xml)$",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}", re.IGNORECASE)
_SHORT_SLUG = re.compile(r"/[^/]+/[a-z0-9]+(?:[-_][a-z0-9]+)+(?:\.html?|/)?$", re.IGNORECASE)
_DATE = re.compile(r"/(19|20)\d{2}/\d{1,2}/")
_ID = re.compile(r"/\d{3,}(?:/|\.html?$|$)")
_MAX_SITEMAP_DEPTH = 4


def looks_like_article(url: str) -> bool:
    """A URL heuristic for sources without ``article_urls``: dated paths, long slugs, ids."""
    path = urlsplit(url).path
    if _NOT_ARTICLE.search(url) or path in ("", "/"):
        return False
    return bool(
        _DATE.search(path) or _SLUG.search(path) or _ID.search(path) or _SHORT_SLUG.search(path)
    )


def _classify(failure: Failure) -> tuple[str, int | None, str]:
    exc = failure.value
    if failure.check(HttpError):
        status = exc.response.status
        return "http", status, f"HTTP {status}"
    if failure.check(BlockedRequest):
        return "blocked", None, str(exc)
    if failure.check(IgnoreRequest):
        return "ignored", None, str(exc) or "ignored (robots.txt or a download rule)"
    if failure.check(CancelledError):
        return "too-large", None, "download cancelled: larger than crawl.max_page_bytes"
    if failure.check(DNSLookupError):
        return "dns", None, f"DNS lookup failed: {exc}"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "timeout", None, f"timed out: {exc}"
    if failure.check(ConnectionRefusedError):
        return "connection", None, "connection refused"
    if failure.check(ConnectionLost):
        return "connection", None, "connection lost before the response was complete"
    name = type(exc).__name__
    return "connection", None, f"{name}: {exc}"


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: Source, limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"news:{source.name}", **kwargs)
        self.source = source
        self.allowed_domains = list(source.domains)
        self.patterns = [re.compile(p) for p in source.article_urls]
        self.limit = limit
        # 16-byte digests of the article URLs queued so far: compact, as it grows with the site.
        self._queued: set[bytes] = set()
        self._sitemaps: set[str] = set()  # sitemap URLs requested so far

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        cap = crawler.settings.getint("NEWSVAULT_MAX_PAGES", 0)
        if cap and (spider.limit is None or spider.limit > cap):
            spider.limit = cap
        spider._max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE") or 50_000_000
        return spider

    _max_bytes = 50_000_000

    # -- entry points --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        src = self.source
        for url in src.feeds:
            yield self._request(url, self.parse_feed, priority=100, kind="feed")
        for url in src.sitemaps:
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

    def _request(self, url: str, callback: Any, *, priority: int, kind: str, **meta: Any) -> Any:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta={"kind": kind, **meta},
        )

    def is_article_url(self, url: str) -> bool:
        if self.patterns:
            return any(p.search(url) for p in self.patterns)
        return looks_like_article(url)

    def _article(self, url: str, *, from_listing: bool, lastmod: str | None = None) -> Any:
        """A request for an article URL, or None if it is off-site, seen, or over the limit."""
        url = canonical_url(url)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not host_in(parts.hostname, self.allowed_domains):
            return None
        if not from_listing and not self.is_article_url(url):
            return None
        if from_listing and self.patterns and not self.is_article_url(url):
            return None
        digest = hashlib.blake2b(url.encode(), digest_size=16).digest()
        if digest in self._queued:
            return None
        if self.limit is not None and len(self._queued) >= self.limit:
            self.crawler.stats.inc_value("newsvault/over_limit")
            return None
        self._queued.add(digest)
        return self._request(url, self.parse_article, priority=0, kind="article", lastmod=lastmod)

    # -- callbacks -----------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Any]:
        try:
            entries = parse_feed(maybe_gunzip(response.body, self._max_bytes))
        except CrawlError as exc:
            yield FailureItem(response.url, self.source.name, "feed", str(exc), response.status)
            return
        for entry in entries:
            req = self._article(urljoin(response.url, entry.url), from_listing=True, lastmod=entry.lastmod)
            if req is not None:
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Queue the articles of a urlset; read an index's sitemaps one after another.

        The sitemaps of an index are chained (each request carries the rest in its meta) and
        the next is fetched at a priority below the articles, so only one urlset's articles
        wait in memory at a time, however large the site.
        """
        rest: list[tuple[str, int]] = list(response.meta.get("sitemap_rest", ()))
        try:
            doc = parse_sitemap(maybe_gunzip(response.body, self._max_bytes))
        except CrawlError as exc:
            yield FailureItem(response.url, self.source.name, "sitemap", str(exc), response.status)
            yield from self._next_sitemap(rest)
            return
        depth = int(response.meta.get("sitemap_depth", 0))
        children: list[tuple[str, int]] = []
        for entry in doc.entries:
            url = urljoin(response.url, entry.url)
            if doc.kind == "index":
                if depth < _MAX_SITEMAP_DEPTH and host_in(
                    urlsplit(url).hostname, self.allowed_domains
                ):
                    children.append((url, depth + 1))
            else:
                req = self._article(url, from_listing=True, lastmod=entry.lastmod)
                if req is not None:
                    yield req
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

    def parse_robots(self, response: Response) -> Iterator[Any]:
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for line in response.text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                url = urljoin(response.url, value.strip())
                if host_in(urlsplit(url).hostname, self.allowed_domains):
                    yield self._request(url, self.parse_sitemap, priority=90, kind="sitemap")

    def parse_start(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            req = self._article(urljoin(response.url, href.strip()), from_listing=False)
            if req is not None:
                yield req

    def parse_article(self, response: Response) -> Iterator[Any]:
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or (ctype and "html" not in ctype and "xml" not in ctype):
            yield FailureItem(
                response.url,
                self.source.name,
                "not-html",
                f"not an HTML page (Content-Type: {ctype or 'none'})",
                response.status,
            )
            return
        headers = {
            k.decode("latin-1"): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items()
        }
        yield ArticleItem(
            url=response.url,
            source=self.source.name,
            fetched_at=datetime.now(timezone.utc),
            status=response.status,
            html=response.body,
            headers=headers,
            encoding=response.encoding,
            request_url=response.request.url if response.request else None,
        )

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, status, reason = _classify(failure)
        if request is not None and request.meta.get("sitemap_rest"):
            yield from self._next_sitemap(list(request.meta["sitemap_rest"]))  # keep the chain
        if kind in ("blocked", "ignored"):
            self.logger.info(reason)
            return
        what = request.meta.get("kind", "page") if request is not None else "page"
        if what == "robots":
            return  # a site without robots.txt is normal
        if what in ("feed", "sitemap", "start"):
            kind = f"{what}-{kind}"
        yield FailureItem(url, self.source.name, kind, reason, status)
