"""Reaching sites without archiving anything: ``sources add``, ``check --fetch``, ``extract URL``.

Each function runs one Scrapy crawl with the crawl's own settings (user agent, robots.txt,
timeouts, size limit, the private-network guard of ``crawl.allow_private_networks``) but no item
pipeline and no archive. Twisted's reactor cannot be restarted, so each may be called once per
process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from common.config import Config, Source

if TYPE_CHECKING:
    from crawler.spiders.discover import EntryPoint

__all__ = ["Discovery", "Page", "SourceProbe", "discover", "fetch_page", "probe_sources"]


@dataclass(frozen=True, slots=True)
class Discovery:
    """What :func:`discover` found on a site: its entry points (feeds first), and why its home
    page could not be read (None when it could)."""

    home: str
    found: tuple[EntryPoint, ...]
    home_problem: str | None = None

    def feeds(self) -> list[str]:
        return [e.url for e in self.found if e.kind == "feed"]

    def sitemaps(self) -> list[str]:
        """The sitemaps to configure: those no index found here lists (an index covers its own)."""
        return [e.url for e in self.found if e.kind != "feed" and not e.via.startswith("http")]


@dataclass(frozen=True, slots=True)
class SourceProbe:
    """One source's listings, read: the article URLs a crawl would fetch, and the failures."""

    source: str
    article_urls: tuple[str, ...]
    failures: tuple[tuple[str, str], ...] = field(default=())  # (kind, "url: reason")


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: its final URL, status, Content-Type and body (or ``problem``)."""

    url: str
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    problem: str | None = None


def _process(config: Config) -> Any:
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings

    settings = scrapy_settings(config, extract_workers=0)
    settings.update(ITEM_PIPELINES={}, EXTENSIONS={}, NEWSVAULT_INCREMENTAL=False)
    logging.getLogger("scrapy").setLevel(logging.ERROR)
    process = CrawlerProcess(settings)
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    return process


def discover(config: Config, home: str) -> Discovery:
    """The feeds and sitemaps of the site whose home page is ``home``."""
    from crawler.spiders.discover import DiscoverSpider

    process = _process(config)
    crawler = process.create_crawler(DiscoverSpider)
    process.crawl(crawler, home=home, max_bytes=config.crawl.max_page_bytes)
    process.start()
    spider = crawler.spider
    order = {"feed": 0, "news": 1, "index": 2, "sitemap": 3}
    # a sitemap an index lists is credited to the index, however it was found first
    found = [
        replace(e, via=spider.listed[e.url]) if e.url in spider.listed else e for e in spider.found
    ]
    found.sort(key=lambda e: (order.get(e.kind, 9), e.url))
    return Discovery(home, tuple(found), spider.home_problem)


def probe_sources(config: Config, sources: Sequence[Source]) -> list[SourceProbe]:
    """Read each source's feeds, sitemaps and start pages as a crawl would, fetching no article."""
    from scrapy import signals

    from crawler.items import FailureItem
    from crawler.spiders.discover import ProbeSpider

    process = _process(config)
    runs: list[tuple[Source, Any, list[tuple[str, str]]]] = []
    for source in sources:
        crawler = process.create_crawler(ProbeSpider)
        failures: list[tuple[str, str]] = []

        def keep(item: Any, failures: list[tuple[str, str]] = failures, **_: Any) -> None:
            if isinstance(item, FailureItem):
                failures.append((item.kind, f"{item.url}: {item.reason}"))

        crawler.signals.connect(keep, signal=signals.item_scraped, weak=False)
        runs.append((source, crawler, failures))
        process.crawl(crawler, source=source)
    process.start()
    return [
        SourceProbe(s.name, tuple(dict.fromkeys(c.spider.article_urls)), tuple(f))
        for s, c, f in runs
    ]


def fetch_page(config: Config, url: str) -> Page:
    """One page, fetched as a crawl fetches an article (robots.txt, limits, the guard)."""
    from crawler.spiders.discover import PageSpider

    process = _process(config)
    crawler = process.create_crawler(PageSpider)
    process.crawl(crawler, url=url)
    process.start()
    spider = crawler.spider
    response = spider.response
    if response is None:
        return Page(url, problem=spider.problem or "no response")
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
    return Page(response.url, response.status, ctype, response.body)
