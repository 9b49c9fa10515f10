"""The fetch state of a source: what the archive knows, handed to a crawl and handed back.

The orchestration (:func:`newsvault.crawl.run_crawl`) loads a :class:`SourceState` for each source
from the archive before the crawl, hands it to the source's spider, and after the crawl saves
what the spider handed back in it. The crawler itself never opens the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["SourceState", "UrlState", "Validators"]

#: ``{url: (etag, last_modified)}`` of feeds, sitemaps and start pages
Validators = dict[str, tuple[str | None, str | None]]


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


@dataclass(slots=True)
class SourceState:
    """One source's state for one run.

    Handed in: ``urls`` (every known article URL and alias), ``validators`` of its listings,
    ``retry`` (article URLs that failed transiently of late), and ``waiting`` (URLs a server
    asked us to put off, with the time they are due). Without incremental fetching only
    ``waiting`` is filled.

    Handed back: ``seen_validators``, the listings' validators of this run, and
    ``keep_validators``, True when they may be saved (the run finished normally without
    reaching the page limit, so nothing listed was left unread).
    """

    urls: dict[str, UrlState] = field(default_factory=dict)
    validators: Validators = field(default_factory=dict)
    retry: list[str] = field(default_factory=list)
    waiting: dict[str, datetime] = field(default_factory=dict)
    seen_validators: Validators = field(default_factory=dict)
    keep_validators: bool = False

    def validators_to_save(self) -> Validators:
        """The validators handed back that may be saved; empty when none may."""
        return self.seen_validators if self.keep_validators else {}
