"""What spiders yield: a fetched page, or a failure to fetch one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["ArticleItem", "FailureItem"]


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


@dataclass(slots=True)
class FailureItem:
    """A URL that could not be archived. ``kind``: http, timeout, dns, connection, truncated,
    redirect, blocked, empty, not-html, too-large, feed, sitemap, extraction, ... (feeds,
    sitemaps and start pages prefix theirs: feed-http, sitemap-timeout, ...).

    ``retry_after`` is set (seconds; 0 when the server gave none) when the server said "come
    back later" (HTTP 429/503): the archive then puts the URL off until it is due."""

    url: str
    source: str
    kind: str
    reason: str
    status: int | None = None
    retry_after: float | None = None
