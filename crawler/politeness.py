"""robots.txt ``Crawl-delay``, honoured.

Scrapy obeys robots.txt Allow/Disallow but ignores ``Crawl-delay``. :class:`CrawlDelayMiddleware`
reads it from every robots.txt response that passes through the downloader (Scrapy's
RobotsTxtMiddleware fetches them through it), with the parser Scrapy is configured with, and
makes the host's download slot wait at least that long between requests, without the usual
random jitter (which could shorten it). AutoThrottle may lengthen the delay, never shorten it
below Crawl-delay, because the floor is re-applied before every request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.misc import load_object

__all__ = ["MAX_CRAWL_DELAY", "CrawlDelayMiddleware"]

#: A robots.txt asking for more than this many seconds between requests gets this many.
MAX_CRAWL_DELAY = 60.0


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler, user_agent: str, stats: Any = None) -> None:
        self.crawler = crawler
        self.user_agent = user_agent
        self.stats = stats
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        ua = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        return cls(crawler, ua, crawler.stats)

    def process_request(self, request: Request) -> None:
        delay = self.delays.get(urlsplit(request.url).netloc)
        engine = self.crawler.engine
        if delay is None or engine is None:
            return None
        downloader = engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None and (slot.delay < delay or slot.jitter):
            slot.delay = max(slot.delay, delay)
            slot.jitter = 0.0
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        parts = urlsplit(request.url)
        if parts.path != "/robots.txt" or response.status != 200:
            return response
        parser_cls = load_object(self.crawler.settings.get("ROBOTSTXT_PARSER"))
        try:
            delay = parser_cls.from_crawler(self.crawler, response.body).crawl_delay(
                self.user_agent
            )
        except Exception:  # a robots.txt we cannot read gives no delay; Scrapy logs it
            return response
        if delay:
            delay = min(float(delay), MAX_CRAWL_DELAY)
            self.delays[parts.netloc] = delay
            if self.stats is not None:
                self.stats.set_value(f"newsvault/crawl_delay/{parts.netloc}", delay)
        return response
