"""The archive's tables.

- ``articles``: one row per article, keyed by its canonical URL; the current clean text.
- ``bodies``: raw HTML, zlib-compressed and content-addressed (sha256), so an unchanged page
  re-fetched a hundred times is stored once.
- ``fetches``: one row per successful fetch of an article page (URL, time, status, headers, body).
- ``failures``: one row per URL that could not be archived in a run, with the reason.
- ``runs``: one row per crawl of one source (or a worker's work on it), with the host and pid of
  its process and its last sign of life.
- ``revisions``: every version of an article seen, numbered 1..n; the article row holds the
  newest. Revision 1 is written when the article is first stored.
- ``aliases``: other URLs of an article (tracking, amp, print, canonical variants, and pages of
  the same source with the same or nearly the same text), each with the reason.
- ``validators``: ETag / Last-Modified of feeds and sitemaps, for conditional re-fetches.
- ``locks``: one row per source being crawled right now (who holds it, last heartbeat).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Alias",
    "Article",
    "Backoff",
    "Base",
    "Body",
    "Failure",
    "Fetch",
    "Lock",
    "Revision",
    "Run",
    "UTCDateTime",
    "Validator",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime, on any database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="running")
    pid: Mapped[int | None] = mapped_column(Integer)
    #: the machine the run's process runs on (None: recorded before migration 0010)
    host: Mapped[str | None] = mapped_column(String(255))
    #: the run's last sign of life: set at its start, refreshed while it runs
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    urls_over_cap: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message: Mapped[str | None] = mapped_column(Text)


class Body(Base):
    __tablename__ = "bodies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    zdata: Mapped[bytes] = mapped_column(LargeBinary)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[str | None] = mapped_column(String(40))
    modified_at: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(16))
    site_name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    image_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    # the text as Markdown (headings, lists, quotes, tables, links); None before migration 0007
    markdown: Mapped[str | None] = mapped_column(Text)
    # the page says the article is not free: ``text`` is its teaser
    paywalled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    first_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))
    # incremental archiving (migration 0002)
    revision_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    sim_b0: Mapped[int | None] = mapped_column(Integer)
    sim_b1: Mapped[int | None] = mapped_column(Integer)
    sim_b2: Mapped[int | None] = mapped_column(Integer)
    sim_b3: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    listed_lastmod: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_articles_source_published", "source", "published_at"),
        Index("ix_articles_source_text_hash", "source", "text_hash"),
        Index("ix_articles_source_sim_b0", "source", "sim_b0"),
        Index("ix_articles_source_sim_b1", "source", "sim_b1"),
        Index("ix_articles_source_sim_b2", "source", "sim_b2"),
        Index("ix_articles_source_sim_b3", "source", "sim_b3"),
    )


class Fetch(Base):
    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body_sha256: Mapped[str] = mapped_column(ForeignKey("bodies.sha256"), index=True)
    # the DOM after headless Chromium ran the page's scripts (``render:``), None if not rendered
    rendered_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))


class Failure(Base):
    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class Revision(Base):
    """One version of an article as seen at ``seen_at``; ``number`` counts from 1."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[str | None] = mapped_column(String(40))
    modified_at: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    image_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    site_name: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_revisions_article_number"),)


class Alias(Base):
    """Another URL of an article. ``reason``: tracking, amp, print, canonical, redirect,
    same-text or near-duplicate."""

    __tablename__ = "aliases"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Validator(Base):
    """HTTP cache validators of a feed, sitemap or start page, for conditional requests."""

    __tablename__ = "validators"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lock(Base):
    """A source being crawled now: at most one row, so at most one crawl, per source."""

    __tablename__ = "locks"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    hostname: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
class Backoff(Base):
    """A URL whose server asked us to come back later (HTTP 429/503): not fetched before
    ``not_before``. ``attempts`` counts refusals in a row; the row goes once the URL is stored."""

    __tablename__ = "backoff"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(Text)
