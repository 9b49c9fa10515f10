"""Incremental fetching: on second and later runs, fetch only what is new, moved or due.

:class:`Incremental` is built by the spider through ``from_crawler`` (it raises NotConfigured
when ``NEWSVAULT_INCREMENTAL`` is off) with the source's :class:`~common.fetchstate.SourceState`,
which the orchestration loaded from the archive and handed to the spider: the state of every URL
of the source (validators, sitemap ``lastmod``, last fetch, publication date), the validators of
its feeds and sitemaps, and the article URLs worth another try. Neither this component nor the
spider touches the archive; the spider asks this component:

- :meth:`listing` makes a feed/sitemap/start-page request conditional (``If-None-Match``,
  ``If-Modified-Since``); a 304 is passed to the callback, which then does nothing more.
- :meth:`decide` says whether an article URL is fetched: new URLs always; known ones when their
  listed ``lastmod`` is later than their last fetch (and than the lastmod already followed), or
  when the re-check rules make them due; otherwise not (counted as ``newsvault/not_due``).
- :meth:`article` makes a known article's request conditional; a 304 becomes a
  :class:`~crawler.items.NotModifiedItem` (checked, unchanged, not extracted).
- :meth:`due` lists known articles due a re-check, and the state's ``retry`` URLs (whose fetch
  failed of late for a reason that may pass: timeout, connection, 429, 5xx), so they are
  fetched even when every listing answered 304.

The validators of the listings fetched in the run are handed back in the state; they are marked
to be kept only when the spider finished normally without reaching the page limit, so a crashed
or capped run reads its listings in full next time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from common.dates import is_later, parse_when

if TYPE_CHECKING:
    from common.fetchstate import SourceState, UrlState

__all__ = ["Decision", "Incremental", "RecheckRules"]

log = logging.getLogger(__name__)
RecheckRules = Sequence[tuple[timedelta, timedelta]]
NOT_MODIFIED = 304


class Decision(StrEnum):
    NEW = "new"
    MOVED = "moved"
    DUE = "due"
    NOT_DUE = "not-due"


def _conditional(request: Request, etag: str | None, last_modified: str | None) -> None:
    if etag:
        request.headers[b"If-None-Match"] = etag.encode("latin-1", "replace")
    if last_modified:
        request.headers[b"If-Modified-Since"] = last_modified.encode("latin-1", "replace")
    if etag or last_modified:
        allowed = list(request.meta.get("handle_httpstatus_list", ()))
        request.meta["handle_httpstatus_list"] = [*allowed, NOT_MODIFIED]


class Incremental:
    """Fetch decisions of one source for one run, from the ``state`` handed in (and handed back
    to). ``rules``: (younger_than, every) pairs in increasing age; an article older than every
    rule is re-checked only when its lastmod moves."""

    def __init__(
        self,
        state: SourceState,
        rules: RecheckRules,
        stats: Any = None,
        now: datetime | None = None,
    ) -> None:
        self.state = state
        self.rules = tuple(rules)
        self.stats = stats
        self.now = now or datetime.now(UTC)
        self._not_due: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, state: SourceState) -> Incremental:
        s = crawler.settings
        if not s.getbool("NEWSVAULT_INCREMENTAL"):
            raise NotConfigured
        rules = [
            (timedelta(seconds=float(a)), timedelta(seconds=float(b)))
            for a, b in s.getlist("NEWSVAULT_RECHECK")
        ]
        inc = cls(state, rules)
        crawler.signals.connect(inc.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(inc.spider_closed, signal=signals.spider_closed)
        inc._crawler = crawler
        return inc

    _crawler: Crawler | None = None

    def spider_opened(self, spider: Any) -> None:
        if self.stats is None and self._crawler is not None:
            self.stats = self._crawler.stats
        if self.stats is not None:
            self.stats.set_value("newsvault/known_urls", len(self.state.urls))

    # -- listings ------------------------------------------------------------------------------

    def listing(self, request: Request) -> Request:
        """Make a feed, sitemap or start-page request conditional on its stored validators."""
        etag, last_modified = self.state.validators.get(request.url, (None, None))
        _conditional(request, etag, last_modified)
        return request

    def listing_unchanged(self, response: Response) -> bool:
        """True for a 304 (nothing more to do); else remember the response's validators."""
        if response.status == NOT_MODIFIED:
            if self.stats is not None:
                self.stats.inc_value("newsvault/listings_not_modified")
            return True
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if response.status == 200 and (etag or last_modified):
            url = response.request.url if response.request else response.url
            self.state.seen_validators[url] = (etag, last_modified)
        return False

    # -- articles ------------------------------------------------------------------------------

    def _due(self, state: UrlState) -> bool:
        if state.alias is not None:
            return False  # the article's own URL is the one re-checked
        born = parse_when(state.published_at) or state.first_fetched_at
        age = self.now - born
        for younger_than, every in self.rules:
            if age < younger_than:
                return self.now - state.last_fetched_at >= every
        return False

    def decide(self, url: str, lastmod: str | None) -> Decision:
        """Whether to fetch the article at (canonical) ``url`` listed with ``lastmod``."""
        state = self.state.urls.get(url)
        if state is None:
            return Decision.NEW
        if (
            lastmod
            and is_later(lastmod, state.last_fetched_at.isoformat())
            and (state.lastmod is None or is_later(lastmod, state.lastmod))
        ):  # changed since our last fetch (and not a future date we have followed already)
            return Decision.MOVED
        if self._due(state):
            return Decision.DUE
        if url not in self._not_due:
            self._not_due.add(url)
            if self.stats is not None:
                self.stats.inc_value("newsvault/not_due")
        return Decision.NOT_DUE

    def due(self) -> Iterator[str]:
        """Article URLs (not aliases) due a re-check by the rules, newest first, then the URLs
        whose last fetch failed transiently."""
        due = [
            (state.published_at or "", url)
            for url, state in self.state.urls.items()
            if state.alias is None and self._due(state)
        ]
        for _, url in sorted(due, reverse=True):
            yield url
        yield from self.state.retry

    def article(self, request: Request) -> Request:
        """Make a known article's request conditional on the validators of its last fetch."""
        state = self.state.urls.get(request.url)
        if state is not None:
            _conditional(request, state.etag, state.last_modified)
        return request

    # -- end of run ----------------------------------------------------------------------------

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Mark the listings' validators handed back as to be kept when the run finished
        normally; the orchestration saves them."""
        if reason != "finished" or not self.state.seen_validators:
            return
        if self.stats is not None and self.stats.get_value("newsvault/over_limit"):
            # articles of these listings were left for the next run: it must read them again
            log.info("%s: page limit reached; listings will be fetched in full next run", spider)
            return
        self.state.keep_validators = True


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:512] if value else None
