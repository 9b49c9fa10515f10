"""The article write policy: each article saved whole, once, with every change kept.

Each article is saved whole (article row, its new revision, aliases, raw body, fetch row
together) inside one short transaction, alone (:meth:`ArticleStore.save_article`) or with a
batch of others (:meth:`ArticleStore.save_articles`), so a crash at any moment leaves either all
of it or none. Articles extracted again from their stored pages follow the same revision test
(:meth:`ArticleStore.save_reextracted`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.dates import is_later, utcnow
from common.errors import StorageError
from common.fingerprint import normalise_title, text_fingerprint
from common.urls import canonical_url
from storage import incremental as inc
from storage.base import ArchiveBase
from storage.bodies import PackedBody, pack_body
from storage.bulk import save_plain_new
from storage.models import Alias, Article, Backoff, Body, Failure, Fetch
from storage.records import (
    ArticleRecord,
    FetchRecord,
    content_columns,
    fetch_columns,
    header_value,
)

__all__ = ["ArticleStore", "Outcome", "Reextracted", "text_changed"]

T = TypeVar("T")


class Outcome(StrEnum):
    """What :meth:`ArticleStore.save_article` did with an article."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


class Reextracted(StrEnum):
    """What :meth:`ArticleStore.save_reextracted` did with an article."""

    REVISED = "revised"  # its content changed: kept as its next revision
    REFRESHED = "refreshed"  # only what the revision test ignores, or a stale hash: in place
    KEPT = "kept"  # the new text lost more than half of the old: old kept, failure recorded
    UNCHANGED = "unchanged"


#: a re-extraction keeping less than this share of an article's text is not applied
REEXTRACT_MIN_SHARE = 0.5


def text_changed(art: Article, rec: ArticleRecord) -> bool:
    """The revision test: the title or the normalised text differs. The stored text is
    fingerprinted again, so a change of normalisation never makes a revision by itself."""
    if normalise_title(art.title) != normalise_title(rec.title):
        return True
    if art.text_hash == rec.text_hash:
        return False
    return text_fingerprint(art.text) != rec.text_hash


def put_body(s: Session, body: bytes) -> str:
    """Store a raw page once (by its sha256); returns the digest."""
    digest, zdata = body.packed() if isinstance(body, PackedBody) else pack_body(body)
    row = {"sha256": digest, "size": len(body), "zdata": zdata}
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        s.execute(sqlite.insert(Body).values(**row).on_conflict_do_nothing())
    elif dialect == "postgresql":
        s.execute(postgresql.insert(Body).values(**row).on_conflict_do_nothing())
    elif s.get(Body, digest) is None:
        s.add(Body(**row))
    return digest


def new_revision(
    s: Session, art: Article, rec: ArticleRecord, at: datetime, run_id: int | None
) -> None:
    """Make ``rec`` the article's content, kept as its next revision (seen at ``at``)."""
    for k, v in content_columns(rec).items():
        setattr(art, k, v)
    inc.set_simhash(art, rec.simhash)
    art.last_changed_at = at
    art.revision_count = (art.revision_count or 1) + 1
    s.flush()
    inc.add_revision(s, art, art.revision_count, at, run_id)


class ArticleStore(ArchiveBase):
    """Saving fetched articles, 304s and aliases."""

    def save_article(self, run_id: int | None, rec: ArticleRecord, fetch: FetchRecord) -> Outcome:
        """Store one article and its fetch in one transaction; say what was done.

        Raises StorageError when it cannot be written (the archive is unusable, or it refuses
        this article's data).
        """
        return self._save(lambda s: self._save_one(s, run_id, rec, fetch))

    def save_articles(
        self, run_id: int | None, items: Sequence[tuple[ArticleRecord, FetchRecord]]
    ) -> list[Outcome]:
        """Store several articles in ONE transaction; say what was done with each, in order.

        All or nothing: if any article cannot be written, nothing of the batch is, and
        StorageError is raised; the caller then saves them one by one (:meth:`save_article`) so
        that one bad article does not cost the others.
        """
        if not items:
            return []

        def fn(s: Session) -> list[Outcome]:
            # the plainly new articles in a few multi-row statements, then the rest one by one
            plain = save_plain_new(s, run_id, items, self.near_duplicate_distance)
            return [
                Outcome.NEW if i in plain else self._save_one(s, run_id, rec, fetch)
                for i, (rec, fetch) in enumerate(items)
            ]

        return self._save(fn)

    def _save(self, fn: Callable[[Session], T]) -> T:
        try:
            return self.write(fn)
        except IntegrityError as exc:  # still violated after the retries: this data is refused
            raise StorageError(f"cannot write to the archive: {exc.orig}") from exc

    def _save_one(
        self, s: Session, run_id: int | None, rec: ArticleRecord, fetch: FetchRecord
    ) -> Outcome:
        """The body of :meth:`save_article`, inside the caller's transaction.

        A new URL whose text equals (or nearly equals) an article of the same source becomes an
        alias of that article (DUPLICATE, its fetch kept). A URL whose article another source
        stored first is that source's: the fetch is kept as a fetch of it, nothing else changes
        (DUPLICATE). A known article whose title or
        normalised text changed gets a new revision and becomes that revision (UPDATED).
        A page whose declared canonical names another article is checked first
        (:func:`_claim`): it cannot replace that article's text."""
        fetched_key = canonical_url(fetch.url)
        if fetched_key != rec.url:
            rec = _claim(s, run_id, rec, fetch, fetched_key)
        art = inc.find_article(s, rec.url)
        if art is not None and art.source != rec.source:
            # another source stored this URL first and owns it: this fetch is kept as a fetch
            # of that article (made by this run); only the owner's fetches change its content
            _add_fetch(s, run_id, art.id, fetch, put_body(s, fetch.body))
            return Outcome.DUPLICATE
        if art is None:
            dup = inc.content_duplicate(
                s, rec.source, rec.text_hash, rec.simhash, self.near_duplicate_distance
            )
            if dup is not None:
                art_id, reason = dup
                inc.add_alias(s, rec.url, art_id, reason, fetch.fetched_at)
                _add_fetch(s, run_id, art_id, fetch, put_body(s, fetch.body))
                return Outcome.DUPLICATE
        digest = put_body(s, fetch.body)
        if art is None:
            art = Article(
                source=rec.source,
                url=rec.url,
                first_fetched_at=fetch.fetched_at,
                last_fetched_at=fetch.fetched_at,
                last_changed_at=fetch.fetched_at,
                body_sha256=digest,
                revision_count=1,
                **content_columns(rec),
            )
            inc.set_simhash(art, rec.simhash)
            s.add(art)
            s.flush()
            inc.add_revision(s, art, 1, fetch.fetched_at, run_id)
            outcome = Outcome.NEW
        elif not text_changed(art, rec):
            art.last_fetched_at = fetch.fetched_at
            art.body_sha256 = digest
            outcome = Outcome.UNCHANGED
        else:
            art.last_fetched_at = fetch.fetched_at
            art.body_sha256 = digest
            new_revision(s, art, rec, fetch.fetched_at, run_id)
            outcome = Outcome.UPDATED
        art.etag = header_value(fetch.headers, "etag")
        art.last_modified = header_value(fetch.headers, "last-modified")
        if is_later(fetch.lastmod, art.listed_lastmod):
            art.listed_lastmod = fetch.lastmod
        if fetched_key != art.url:
            inc.add_alias(s, fetched_key, art.id, "canonical", fetch.fetched_at)
        s.flush()
        s.execute(delete(Backoff).where(Backoff.url.in_({fetch.url, rec.url})))
        _add_fetch(s, run_id, art.id, fetch, digest)
        return outcome

    def touch(self, url: str, fetched_at: datetime, lastmod: str | None = None) -> bool:
        """Record that ``url`` answered 304 Not Modified: its article was checked and is
        unchanged. False when no article is stored under that URL or an alias of it."""

        def fn(s: Session) -> bool:
            art = inc.find_article(s, url)
            if art is None:
                return False
            art.last_fetched_at = fetched_at
            if is_later(lastmod, art.listed_lastmod):
                art.listed_lastmod = lastmod
            return True

        return self.write(fn)

    def record_alias(self, url: str, target: str, reason: str) -> bool | None:
        """Record ``url`` as another URL of the article stored under ``target``. None when no
        such article is stored (yet); False when ``url`` was already known."""

        def fn(s: Session) -> bool | None:
            art = inc.find_article(s, target, content=True)
            if art is None:
                return None
            return inc.add_alias(s, url, art.id, reason, utcnow())

        return self.write(fn)

    def save_reextracted(
        self, items: Sequence[tuple[int, ArticleRecord]], at: datetime | None = None
    ) -> list[Reextracted]:
        """Store articles extracted again from their stored pages, in one transaction; say
        what was done with each, in order.

        Every change of an article's content is kept: a title, text or metadata that changed
        becomes the article's next revision, seen at ``at`` (default: now) and made by no run,
        and the article row, its text hash and simhash equal it (REVISED). A new text shorter
        than half the stored one (:data:`REEXTRACT_MIN_SHARE`) is not applied: the article
        stays as it is and a failure of kind ``reextract-shrank`` records why (KEPT). A row
        whose text differs only in what the fingerprint ignores (the revision test,
        :func:`text_changed`), or whose hash or simhash is stale, is repaired in place: its
        latest revision records that text already (REFRESHED). URL, source, fetch times
        and fetch history are never touched; an article no longer in the archive is left alone
        (UNCHANGED). Raises StorageError when the archive cannot be written.
        """
        when = at or utcnow()

        def fn(s: Session) -> list[Reextracted]:
            ids = [article_id for article_id, _ in items]
            rows = {a.id: a for a in s.scalars(select(Article).where(Article.id.in_(ids)))}
            out: list[Reextracted] = []
            for article_id, rec in items:
                art = rows.get(article_id)
                if art is None:
                    out.append(Reextracted.UNCHANGED)
                elif art.text and len(rec.text) < REEXTRACT_MIN_SHARE * len(art.text):
                    s.add(_shrank(art, len(rec.text), when))
                    out.append(Reextracted.KEPT)
                elif text_changed(art, rec) or _differs(art, rec, metadata_only=True):
                    new_revision(s, art, rec, when, None)
                    out.append(Reextracted.REVISED)
                elif _differs(art, rec):
                    for k, v in content_columns(rec).items():
                        setattr(art, k, v)
                    inc.set_simhash(art, rec.simhash)
                    out.append(Reextracted.REFRESHED)
                else:
                    out.append(Reextracted.UNCHANGED)
            return out

        return self._save(fn) if items else []


def _claim(
    s: Session, run_id: int | None, rec: ArticleRecord, fetch: FetchRecord, fetched_key: str
) -> ArticleRecord:
    """The record to save for a page fetched at ``fetched_key`` that declares ``rec.url`` its
    canonical URL (the canonical-takeover rule, issue 20).

    A canonical link merges the page into the article stored under ``rec.url`` (an alias) only
    when the two carry the same article (same title and normalised text, :func:`text_changed`),
    or when that article was never fetched under its own URL (it is known only through pages
    naming it). Otherwise the page never replaces that article's text: it is archived under
    its own URL, and the conflict is recorded as a failure of kind "canonical-conflict"."""
    target = inc.find_article(s, rec.url)
    if target is None or not text_changed(target, rec):
        return rec
    own = s.scalar(
        select(Fetch.id).where(Fetch.article_id == target.id, Fetch.url == target.url).limit(1)
    )
    if own is None:
        return rec
    stale = s.get(Alias, fetched_key)
    if stale is not None and stale.article_id == target.id:
        s.delete(stale)  # merged earlier, when it still carried the same text
        s.flush()
    s.add(
        Failure(
            run_id=run_id,
            source=rec.source,
            url=fetch.url,
            at=utcnow(),
            kind="canonical-conflict",
            status=fetch.status,
            reason=f"declares {rec.url} canonical but carries another article; "
            "archived under its own URL, the canonical article left unchanged"[:2000],
        )
    )
    return replace(rec, url=fetched_key)


def _differs(art: Article, rec: ArticleRecord, *, metadata_only: bool = False) -> bool:
    """Whether the article row differs from ``rec`` in any column an extraction fills (with
    ``metadata_only``: in any but the text and what derives from it, its hash and simhash;
    whether the text changed is :func:`text_changed`'s question)."""
    for name, value in content_columns(rec).items():
        if metadata_only and name in ("text", "text_hash"):
            continue
        stored = getattr(art, name)
        if isinstance(value, list):
            stored = list(stored or [])
        if stored != value:
            return True
    return not metadata_only and art.simhash != rec.simhash


def _shrank(art: Article, new_chars: int, at: datetime) -> Failure:
    """The failure that records why a re-extraction was not applied to ``art``."""
    old_chars = len(art.text or "")
    reason = (
        f"re-extraction kept {new_chars:,} of {old_chars:,} characters of the text "
        f"({100 * new_chars / max(old_chars, 1):.0f}%, under {REEXTRACT_MIN_SHARE:.0%}): "
        "the stored text is kept"
    )
    return Failure(
        run_id=None, source=art.source, url=art.url, at=at, kind="reextract-shrank", reason=reason
    )


def _add_fetch(
    s: Session, run_id: int | None, article_id: int, fetch: FetchRecord, digest: str
) -> None:
    rendered = put_body(s, fetch.rendered) if fetch.rendered is not None else None
    s.add(Fetch(**fetch_columns(fetch, run_id, article_id, digest, rendered)))
