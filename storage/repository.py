"""The archive's read/write API: the only place with sessions or SQL.

Each article is saved whole (article row, raw body, fetch row together) inside one short
transaction, alone (:meth:`Archive.save_article`) or with a batch of others
(:meth:`Archive.save_articles`), so a crash at any moment leaves either all of it or none.
Readers stream in batches and never hold a write lock, so an export or a search never blocks a
running crawl.

Example::

    archive = Archive.open("sqlite:///newsvault.db")
    run_id = archive.start_run("example-news")
    outcome = archive.save_article(run_id, record, fetch)
    archive.finish_run(run_id, "ok", {"articles_new": 1})
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.errors import StorageError
from storage.bodies import PackedBody, pack_body
from storage.db import open_engine
from storage.models import Article, Body, Failure, Fetch, Run

__all__ = ["Archive", "ArticleRecord", "FetchRecord", "Outcome", "RUN_COUNTERS", "utcnow"]

T = TypeVar("T")

RUN_COUNTERS = (
    "pages_fetched",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_skipped",
    "errors",
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Outcome(StrEnum):
    """What :meth:`Archive.save_article` did with an article."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One HTTP response as fetched: final URL, time, status, headers and the raw body."""

    url: str
    fetched_at: datetime
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


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


def _article_dict(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "source": a.source,
        "url": a.url,
        "title": a.title,
        "authors": list(a.authors or []),
        "published_at": a.published_at,
        "modified_at": a.modified_at,
        "language": a.language,
        "site_name": a.site_name,
        "description": a.description,
        "tags": list(a.tags or []),
        "image_url": a.image_url,
        "text": a.text,
        "first_fetched_at": a.first_fetched_at.isoformat(),
        "fetched_at": a.last_fetched_at.isoformat(),
        "last_changed_at": a.last_changed_at.isoformat(),
    }


class Archive:
    """Read and write access to one archive database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, readonly: bool = False) -> Archive:
        """Open (creating and migrating if needed) the archive at a SQLAlchemy URL."""
        return cls(open_engine(url, migrate_schema=not readonly, readonly=readonly))

    def close(self) -> None:
        self.engine.dispose()

    # -- writing -------------------------------------------------------------------------------

    def _write(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in one transaction, retrying when another writer holds the lock."""
        delay = 0.05
        for attempt in range(attempts):
            try:
                with Session(self.engine) as session, session.begin():
                    return fn(session)
            except OperationalError as exc:
                locked = "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
                if not locked or attempt == attempts - 1:
                    raise StorageError(f"cannot write to the archive: {exc.orig}") from exc
                time.sleep(delay)
                delay *= 2
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                # a concurrent writer inserted the same row first: retry sees it
            except SQLAlchemyError as exc:
                raise StorageError(f"cannot write to the archive: {exc}") from exc
        raise AssertionError("unreachable")

    def start_run(self, source: str, trigger: str = "manual", pid: int | None = None) -> int:
        def fn(s: Session) -> int:
            run = Run(source=source, trigger=trigger, started_at=utcnow(), status="running", pid=pid)
            for name in RUN_COUNTERS:
                setattr(run, name, 0)
            s.add(run)
            s.flush()
            return run.id

        return self._write(fn)

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: Mapping[str, int] | None = None,
        message: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": message}
        for name in RUN_COUNTERS:
            if counts and name in counts:
                values[name] = int(counts[name])
        self._write(lambda s: s.execute(update(Run).where(Run.id == run_id).values(**values)))

    def _put_body(self, s: Session, body: bytes) -> str:
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
        return self._save(lambda s: [self._save_one(s, run_id, rec, fetch) for rec, fetch in items])

    def _save(self, fn: Callable[[Session], T]) -> T:
        try:
            return self._write(fn)
        except IntegrityError as exc:  # still violated after the retries: this data is refused
            raise StorageError(f"cannot write to the archive: {exc.orig}") from exc

    def _save_one(
        self, s: Session, run_id: int | None, rec: ArticleRecord, fetch: FetchRecord
    ) -> Outcome:
        """The body of :meth:`save_article`, inside the caller's transaction."""
        art = s.scalars(select(Article).where(Article.url == rec.url)).one_or_none()
        if art is None:
            dup = s.scalars(
                select(Article.id).where(
                    Article.source == rec.source, Article.text_hash == rec.text_hash
                )
            ).first()
            if dup is not None:
                return Outcome.DUPLICATE
        digest = self._put_body(s, fetch.body)
        fields = {
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
        }
        if art is None:
            art = Article(
                source=rec.source,
                url=rec.url,
                first_fetched_at=fetch.fetched_at,
                last_fetched_at=fetch.fetched_at,
                last_changed_at=fetch.fetched_at,
                body_sha256=digest,
                **fields,
            )
            s.add(art)
            outcome = Outcome.NEW
        elif art.text_hash == rec.text_hash and art.title == rec.title:
            art.last_fetched_at = fetch.fetched_at
            art.body_sha256 = digest
            outcome = Outcome.UNCHANGED
        else:
            for k, v in fields.items():
                setattr(art, k, v)
            art.last_fetched_at = fetch.fetched_at
            art.last_changed_at = fetch.fetched_at
            art.body_sha256 = digest
            outcome = Outcome.UPDATED
        s.flush()
        s.add(
            Fetch(
                run_id=run_id,
                article_id=art.id,
                url=fetch.url,
                fetched_at=fetch.fetched_at,
                status=fetch.status,
                headers=dict(fetch.headers),
                body_sha256=digest,
            )
        )
        return outcome

    def record_failure(
        self,
        run_id: int | None,
        source: str,
        url: str,
        kind: str,
        reason: str,
        status: int | None = None,
    ) -> None:
        """Record that ``url`` could not be archived, and why."""
        self._write(
            lambda s: s.add(
                Failure(
                    run_id=run_id,
                    source=source,
                    url=url,
                    at=utcnow(),
                    kind=kind,
                    status=status,
                    reason=reason[:2000],
                )
            )
        )

    # -- reading -------------------------------------------------------------------------------

    def article(self, url: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            art = s.scalars(select(Article).where(Article.url == url)).one_or_none()
            return _article_dict(art) if art else None

    def has_url(self, url: str) -> bool:
        with Session(self.engine) as s:
            return s.scalar(select(Article.id).where(Article.url == url)) is not None

    def count_articles(self, source: str | None = None) -> int:
        with Session(self.engine) as s:
            q = select(func.count(Article.id))
            if source:
                q = q.where(Article.source == source)
            return int(s.scalar(q) or 0)

    def iter_articles(
        self, sources: tuple[str, ...] = (), *, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Stream articles in id order, ``batch`` rows per query (keyset paging)."""
        last = 0
        while True:
            with Session(self.engine) as s:
                q = select(Article).where(Article.id > last).order_by(Article.id).limit(batch)
                if sources:
                    q = q.where(Article.source.in_(sources))
                rows = [_article_dict(a) for a in s.scalars(q)]
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def raw_body(self, sha256: str) -> bytes | None:
        with Session(self.engine) as s:
            body = s.get(Body, sha256)
            return zlib.decompress(body.zdata) if body else None

    def runs(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            q = select(Run).order_by(Run.id.desc()).limit(limit)
            if source:
                q = q.where(Run.source == source)
            return [
                {
                    "id": r.id,
                    "source": r.source,
                    "trigger": r.trigger,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "status": r.status,
                    "message": r.message,
                    **{n: getattr(r, n) for n in RUN_COUNTERS},
                }
                for r in s.scalars(q)
            ]

    def failures(self, run_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            q = select(Failure).order_by(Failure.id.desc()).limit(limit)
            if run_id is not None:
                q = q.where(Failure.run_id == run_id)
            return [
                {
                    "url": f.url,
                    "source": f.source,
                    "kind": f.kind,
                    "status": f.status,
                    "reason": f.reason,
                    "at": f.at,
                }
                for f in s.scalars(q)
            ]
