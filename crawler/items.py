"""What spiders yield: a fetched page, a failure to fetch one, a page that answered 304 Not
Modified, or another URL (a tracking, amp or print variant) of an article URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["NOT_ARTICLE", "AliasItem", "ArticleItem", "FailureItem", "NotModifiedItem"]


@dataclass(slots=True)
class ArticleItem:
    """A fetched candidate article page, raw. ``url`` is the final URL after redirects."""

    url: str
    source: str
    fetched_at: datetime
    status: int
    html: bytes
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    request_url: str | None = None
    lastmod: str | None = None  # the sitemap/feed date that listed it, if any


#: FailureItem.kind of a fetched page that holds no article
NOT_ARTICLE = "not-article"


@dataclass(slots=True)
class FailureItem:
    """A URL that could not be archived. ``kind``: http, timeout, dns, connection, truncated,
    redirect, blocked, empty, not-html, too-large, feed, sitemap, extraction, not-article (a
    page fetched whole that holds no article: counted as skipped, not as an error), ... (feeds,
    sitemaps and start pages prefix theirs: feed-http, sitemap-timeout, ...).

    ``retry_after`` is set (seconds; 0 when the server gave none) when the server said "come
    back later" (HTTP 429/503): the archive then puts the URL off until it is due."""

    url: str
    source: str
    kind: str
    reason: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(slots=True)
class NotModifiedItem:
    """An article URL that answered a conditional request with 304 Not Modified."""

    url: str
    source: str
    fetched_at: datetime
    lastmod: str | None = None


@dataclass(slots=True)
class AliasItem:
    """``url`` was linked as a variant of the article URL ``target``; ``reason`` is "tracking",
    "amp" or "print" (see :func:`common.urls.variant_reason`)."""

    url: str
    target: str
    source: str
    reason: str
