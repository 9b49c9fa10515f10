"""What the crawl hands the archive: one extracted article and the fetch it came from.

Plain values (no SQL), and the one mapping from an :class:`ArticleRecord` to the article
columns that an extraction fills (:func:`content_columns`), shared by every write path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ArticleRecord", "FetchRecord", "content_columns", "fetch_columns", "header_value"]


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One HTTP response as fetched: final URL, time, status, headers and the raw body."""

    url: str
    fetched_at: datetime
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    lastmod: str | None = None  # the sitemap/feed date that listed the URL, if any
    rendered: bytes | None = None  # the DOM after headless Chromium ran the page's scripts


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An extracted, cleaned article ready to store. ``url`` is its canonical URL."""

    source: str
    url: str
    text: str
    text_hash: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: str | None = None
    modified_at: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    simhash: int | None = None
    markdown: str | None = None
    paywalled: bool = False


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v[:512]
    return None


def content_columns(rec: ArticleRecord) -> dict[str, Any]:
    """The article columns an extraction fills: everything but identity and fetch times."""
    return {
        "title": rec.title,
        "authors": list(rec.authors),
        "published_at": rec.published_at,
        "modified_at": rec.modified_at,
        "language": rec.language,
        "site_name": rec.site_name,
        "description": rec.description,
        "tags": list(rec.tags),
        "image_url": rec.image_url,
        "text": rec.text,
        "text_hash": rec.text_hash,
        "markdown": rec.markdown,
        "paywalled": rec.paywalled,
    }


def fetch_columns(
    fetch: FetchRecord,
    run_id: int | None,
    article_id: int,
    body_sha256: str,
    rendered_sha256: str | None = None,
) -> dict[str, Any]:
    """The ``fetches`` row of one fetch of an article (``rendered_sha256``: its rendered DOM's
    stored body, if the page was rendered)."""
    return {
        "run_id": run_id,
        "article_id": article_id,
        "url": fetch.url,
        "fetched_at": fetch.fetched_at,
        "status": fetch.status,
        "headers": dict(fetch.headers),
        "body_sha256": body_sha256,
        "rendered_sha256": rendered_sha256,
    }
