"""The fetch state of a source: what the archive knows about its URLs, for the crawler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["UrlState"]


@dataclass(frozen=True, slots=True)
class UrlState:
    """What the archive knows about a URL, to decide whether to fetch it again.

    ``alias`` is None for an article's own URL, else the reason the URL is an alias of it. A
    content alias (another page with the same text) has no validators of its own."""

    etag: str | None
    last_modified: str | None
    lastmod: str | None
    last_fetched_at: datetime
    published_at: str | None
    first_fetched_at: datetime
    alias: str | None = None
