"""Spiders that read a site without archiving it: what ``sources add`` and ``check --fetch`` see.

:class:`DiscoverSpider` finds a site's entry points from its home page: ``<link rel=alternate>``
feeds, common feed paths, ``Sitemap:`` lines of robots.txt, ``/sitemap.xml``,
``/sitemap_index.xml`` and common news-sitemap paths, and the sitemaps an index lists. Every
candidate is read with :mod:`crawler.feeds`; only a document that parses as a feed or a sitemap is
kept, in :attr:`DiscoverSpider.found`.

:class:`PageSpider` fetches one page (``newsvault extract URL``).

:class:`ProbeSpider` reads a configured source's listings exactly as :class:`NewsSpider` does and
collects the article URLs they lead to, without fetching a single article.

Both fetch through the same downloader middlewares as a crawl (the safety guard included) and
yield nothing: run them with no item pipelines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from common.errors import CrawlError
from crawler.feeds import maybe_gunzip, parse_feed, parse_sitemap
from crawler.spiders.news import NewsSpider

__all__ = [
    "FEED_PATHS",
    "SITEMAP_PATHS",
    "DiscoverSpider",
    "EntryPoint",
    "PageSpider",
    "ProbeSpider",
]

#: where sites commonly publish their feeds (WordPress, Ghost, Hugo, Jekyll, Drupal, ...)
FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed/atom")
#: where sites commonly publish their sitemaps and news sitemaps
SITEMAP_PATHS = (
    "/sitemap.xml",
    "/sitemap_index.xml",
    "/news-sitemap.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml",
)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_NEWS_NS = b"google.com/schemas/sitemap-news"
_MAX_CHILDREN = 20  # sitemaps of an index read to tell what they are


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A feed or sitemap found on a site. ``kind``: "feed", "sitemap" (a urlset), "index" (a
    sitemap index) or "news" (a news sitemap); ``entries``: its links; ``via``: how it was
    found ("home page", "robots.txt", "common path" or the index that lists it)."""

    url: str
    kind: str
    entries: int
    via: str
    problem: str | None = None


def _problem(failure: Failure) -> str:
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class DiscoverSpider(scrapy.Spider):
    name = "discover"

    def __init__(self, home: str, max_bytes: int = 50_000_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.home = home
        parts = urlsplit(home)
        self.base = f"{parts.scheme}://{parts.netloc}"
        host = (parts.hostname or "").lower()
        self.allowed_domains = [host.removeprefix("www.")]
        self.max_bytes = max_bytes
        self.found: list[EntryPoint] = []
        self.home_problem: str | None = None
        self._seen: set[str] = set()
        self._feeds: set[frozenset[str]] = set()  # a feed's links: one feed at two URLs is one
        self._waiting = 2  # the home page and robots.txt
        self.listed: dict[str, str] = {}  # sitemap URL -> the index that lists it

    def _candidate(self, url: str, via: str) -> scrapy.Request | None:
        if url in self._seen:
            return None
        self._seen.add(url)
        return scrapy.Request(
            url, callback=self.parse_candidate, errback=self.on_error, meta={"via": via}
        )

    async def start(self) -> AsyncIterator[Any]:
        # The home page and robots.txt first, so that what they name is credited to them;
        # the common paths once both have answered.
        yield scrapy.Request(self.home, callback=self.parse_home, errback=self.on_home_error)
        yield scrapy.Request(
            self.base + "/robots.txt", callback=self.parse_robots, errback=self.on_robots_error
        )

    def _common_paths(self) -> Iterator[Any]:
        self._waiting -= 1
        if self._waiting:
            return
        for path in (*FEED_PATHS, *SITEMAP_PATHS):
            req = self._candidate(self.base + path, "common path")
            if req is not None:
                yield req

    def parse_home(self, response: Response) -> Iterator[Any]:
        yield from self._home_links(response)
        yield from self._common_paths()

    def _home_links(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        for link in response.css("link[rel~=alternate]"):
            ctype = (link.attrib.get("type") or "").lower().split(";")[0].strip()
            href = (link.attrib.get("href") or "").strip()
            if ctype in _FEED_TYPES and href:
                req = self._candidate(urljoin(response.url, href), "home page")
                if req is not None:
                    yield req

    def parse_robots(self, response: Response) -> Iterator[Any]:
        yield from self._robots_sitemaps(response)
        yield from self._common_paths()

    def _robots_sitemaps(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        for line in response.text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                req = self._candidate(urljoin(response.url, value.strip()), "robots.txt")
                if req is not None:
                    yield req

    def parse_candidate(self, response: Response) -> Iterator[Any]:
        via = str(response.meta.get("via", ""))
        try:
            body = maybe_gunzip(response.body, self.max_bytes)
        except CrawlError:
            return
        try:
            feed = parse_feed(body)
        except CrawlError:
            pass
        else:
            links = frozenset(e.url for e in feed)
            if not links or links not in self._feeds:
                self._feeds.add(links)
                self.found.append(EntryPoint(response.url, "feed", len(feed), via, feed.problem))
            return
        try:
            doc = parse_sitemap(body)
        except CrawlError:
            return
        if doc.kind == "index":
            kind = "index"
        else:
            kind = "news" if _NEWS_NS in body[:4096] else "sitemap"
        self.found.append(EntryPoint(response.url, kind, len(doc.entries), via, doc.problem))
        if doc.kind == "index":
            for i, entry in enumerate(doc.entries):
                url = urljoin(response.url, entry.url)
                self.listed.setdefault(url, response.url)
                if i >= _MAX_CHILDREN:
                    continue
                req = self._candidate(url, response.url)
                if req is not None:
                    yield req

    def on_home_error(self, failure: Failure) -> Iterator[Any]:
        self.home_problem = _problem(failure)
        yield from self._common_paths()

    def on_robots_error(self, failure: Failure) -> Iterator[Any]:
        yield from self._common_paths()

    def on_error(self, failure: Failure) -> None:
        """A candidate that does not exist is the normal case: nothing to report."""


class PageSpider(scrapy.Spider):
    """Fetches one page; keeps the final :attr:`response`, or :attr:`problem` saying why not."""

    name = "page"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        host = (urlsplit(url).hostname or "").lower()
        self.allowed_domains = [host.removeprefix("www.")]
        self.response: Response | None = None
        self.problem: str | None = None

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.url, callback=self.keep, errback=self.on_error)

    def keep(self, response: Response) -> None:
        self.response = response

    def on_error(self, failure: Failure) -> None:
        self.problem = _problem(failure)


class ProbeSpider(NewsSpider):
    """A source's listings, read as a crawl reads them; the article URLs they lead to are
    collected in :attr:`article_urls` and none is fetched. (What could not be read is yielded as
    :class:`~crawler.items.FailureItem`, as in a crawl.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.article_urls: list[str] = []

    def _article(
        self, url: str, *, from_listing: bool, lastmod: str | None = None, known: bool = False
    ) -> Any:
        req = super()._article(url, from_listing=from_listing, lastmod=lastmod, known=known)
        if isinstance(req, scrapy.Request):
            self.article_urls.append(req.url)
        return None  # counted, never fetched
