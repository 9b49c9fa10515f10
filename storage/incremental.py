"""SQL for incremental archiving: revisions, aliases, near-duplicates, fetch state, validators.

Every function takes an open :class:`~sqlalchemy.orm.Session` and runs inside the caller's
transaction; :class:`~storage.repository.Archive` owns the sessions. Nothing here commits.

Near-duplicates: each article's 64-bit simhash is stored with its four 16-bit bands, each band
indexed with the source. Two simhashes within Hamming distance 3 share at least one band, so the
candidates for a new article are found with four index lookups (``source = ? AND sim_bN = ?``),
whatever the size of the archive; only those few candidates are compared bit by bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import Session

from common.dates import utcnow
from common.fetchstate import UrlState
from common.fingerprint import hamming, simhash_bands
from common.urls import http_url
from storage.base import ArchiveBase
from storage.models import Alias, Article, Failure, Revision, Validator

__all__ = [
    "CONTENT_REASONS",
    "FetchStateStore",
    "REVISION_COPIES",
    "add_alias",
    "add_revision",
    "content_duplicate",
    "find_article",
    "load_retry_urls",
    "load_revisions",
    "load_url_states",
    "load_validators",
    "save_validators",
    "set_simhash",
]

#: the article columns a revision keeps a copy of
REVISION_COPIES = (
    "title",
    "text",
    "text_hash",
    "body_sha256",
    "authors",
    "published_at",
    "modified_at",
    "description",
    "tags",
    "image_url",
    "language",
    "site_name",
)

#: alias reasons that mean "another page with the same text", not "another URL of this page"
CONTENT_REASONS = frozenset({"same-text", "near-duplicate"})


def find_article(s: Session, url: str, *, content: bool = False) -> Article | None:
    """The article stored under ``url``, or under a URL that ``url`` is a variant of (tracking,
    amp, print, canonical); content aliases (same-text, near-duplicate) count only with
    ``content``. The write path's primitive: a reference given by a user (an id, any form of a
    URL) is resolved by :func:`storage.reading.lookup_article`, which builds on this."""
    art = s.scalars(select(Article).where(Article.url == url)).one_or_none()
    if art is not None:
        return art
    alias = s.get(Alias, url)
    if alias is None or (alias.reason in CONTENT_REASONS and not content):
        return None
    return s.get(Article, alias.article_id)


def add_alias(s: Session, url: str, article_id: int, reason: str, at: datetime) -> bool:
    """Record ``url`` as another URL of the article; False if it was already recorded (the
    first reason stays) or is itself an article's URL."""
    if s.get(Alias, url) is not None:
        return False
    if s.scalar(select(Article.id).where(Article.url == url)) is not None:
        return False
    s.add(Alias(url=url, article_id=article_id, reason=reason, first_seen_at=at))
    return True


def set_simhash(art: Article, value: int | None) -> None:
    art.simhash = value
    bands: tuple[int | None, ...] = simhash_bands(value) if value is not None else (None,) * 4
    art.sim_b0, art.sim_b1, art.sim_b2, art.sim_b3 = bands


def content_duplicate(
    s: Session, source: str, text_hash: str, simhash: int | None, max_distance: int | None
) -> tuple[int, str] | None:
    """(article id, reason) of an article of ``source`` with the same normalised text
    ("same-text"), else with a simhash within ``max_distance`` bits ("near-duplicate")."""
    same = s.scalars(
        select(Article.id)
        .where(Article.source == source, Article.text_hash == text_hash)
        .order_by(Article.id)
    ).first()
    if same is not None:
        return same, "same-text"
    if simhash is None or max_distance is None:
        return None
    # One indexed lookup per band, united: written as one OR, SQLite uses only the source part
    # of an index and scans every article of the source (quadratic over a crawl).
    columns = (Article.sim_b0, Article.sim_b1, Article.sim_b2, Article.sim_b3)
    lookups = [
        select(Article.id, Article.simhash).where(Article.source == source, col == band)
        for col, band in zip(columns, simhash_bands(simhash), strict=True)
    ]
    rows = s.execute(union(*lookups)).all()
    best: tuple[int, int] | None = None
    for art_id, other in rows:
        if other is None:
            continue
        d = hamming(simhash, other)
        if d <= max_distance and (best is None or (d, art_id) < best):
            best = (d, art_id)
    return (best[1], "near-duplicate") if best is not None else None


def add_revision(
    s: Session, art: Article, number: int, seen_at: datetime, run_id: int | None
) -> None:
    """Write revision ``number`` as a copy of the article row's current content."""
    copied = {name: getattr(art, name) for name in REVISION_COPIES}
    copied["authors"] = list(art.authors or [])
    copied["tags"] = list(art.tags or [])
    s.add(Revision(article_id=art.id, number=number, seen_at=seen_at, run_id=run_id, **copied))


def load_revisions(s: Session, article_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Every revision of the given articles, oldest first, keyed by article id."""
    ids = list(article_ids)
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    q = (
        select(Revision)
        .where(Revision.article_id.in_(ids))
        .order_by(Revision.article_id, Revision.number)
    )
    for r in s.scalars(q):
        out[r.article_id].append(
            {
                "number": r.number,
                "seen_at": r.seen_at.isoformat(),
                "title": r.title,
                "text": r.text,
                "authors": list(r.authors or []),
                "published_at": r.published_at,
                "modified_at": r.modified_at,
                "description": r.description,
                "tags": list(r.tags or []),
                "image_url": http_url(r.image_url),
                "language": r.language,
                "site_name": r.site_name,
                "body_sha256": r.body_sha256,
            }
        )
    return out


def load_url_states(s: Session, source: str) -> dict[str, UrlState]:
    """The fetch state of every article URL of ``source`` and of every alias of those."""
    cols = (
        Article.id,
        Article.url,
        Article.etag,
        Article.last_modified,
        Article.listed_lastmod,
        Article.last_fetched_at,
        Article.published_at,
        Article.first_fetched_at,
    )
    states: dict[str, UrlState] = {}
    by_id: dict[int, UrlState] = {}
    for art_id, url, etag, lm, lastmod, fetched, published, first in s.execute(
        select(*cols).where(Article.source == source)
    ):
        state = UrlState(etag, lm, lastmod, fetched, published, first)
        states[url] = state
        by_id[art_id] = state
    q = (
        select(Alias.url, Alias.article_id, Alias.reason)
        .join(Article, Article.id == Alias.article_id)
        .where(Article.source == source)
    )
    for url, art_id, reason in s.execute(q):
        base = by_id[art_id]
        content = reason in CONTENT_REASONS
        states.setdefault(
            url,
            UrlState(
                None if content else base.etag,
                None if content else base.last_modified,
                base.lastmod,
                base.last_fetched_at,
                base.published_at,
                base.first_fetched_at,
                alias=reason,
            ),
        )
    return states


def load_validators(s: Session, source: str) -> dict[str, tuple[str | None, str | None]]:
    q = select(Validator.url, Validator.etag, Validator.last_modified).where(
        Validator.source == source
    )
    return {url: (etag, lm) for url, etag, lm in s.execute(q)}


def save_validators(
    s: Session,
    source: str,
    values: Mapping[str, tuple[str | None, str | None]],
    at: datetime,
) -> None:
    for url, (etag, lm) in values.items():
        row = s.get(Validator, url)
        if row is None:
            s.add(Validator(url=url, source=source, etag=etag, last_modified=lm, fetched_at=at))
        else:
            row.source, row.etag, row.last_modified, row.fetched_at = source, etag, lm, at


def load_retry_urls(s: Session, source: str, since: datetime) -> list[str]:
    """Article URLs of ``source`` that failed since ``since`` for a reason that may pass
    (timeout, connection, DNS, HTTP 429 or 5xx) and are not archived: worth another try even
    when the listing that named them has not changed."""
    transient = or_(
        Failure.kind.in_(("timeout", "connection", "dns")),
        and_(Failure.kind == "http", or_(Failure.status == 429, Failure.status >= 500)),
    )
    q = (
        select(Failure.url)
        .where(Failure.source == source, Failure.at >= since, transient)
        .distinct()
    )
    urls = set(s.scalars(q))
    if urls:
        stored = set(s.scalars(select(Article.url).where(Article.url.in_(urls))))
        stored |= set(s.scalars(select(Alias.url).where(Alias.url.in_(urls))))
        urls -= stored
    return sorted(urls)


class FetchStateStore(ArchiveBase):
    """What the archive hands a crawl of one source, and takes back from it."""

    def url_states(self, source: str) -> dict[str, UrlState]:
        """The fetch state of every article URL (and alias) of ``source``, in one query each."""
        with Session(self.engine) as s:
            return load_url_states(s, source)

    def retry_urls(self, source: str, since: datetime) -> list[str]:
        """Article URLs of ``source`` that failed transiently since ``since``, not archived."""
        with Session(self.engine) as s:
            return load_retry_urls(s, source, since)

    def validators(self, source: str) -> dict[str, tuple[str | None, str | None]]:
        """``{url: (etag, last_modified)}`` of the feeds and sitemaps of ``source``."""
        with Session(self.engine) as s:
            return load_validators(s, source)

    def save_validators(
        self, source: str, values: Mapping[str, tuple[str | None, str | None]]
    ) -> None:
        """Store the ETag / Last-Modified of feeds and sitemaps fetched in a completed run."""
        if values:
            self.write(lambda s: save_validators(s, source, values, utcnow()))
