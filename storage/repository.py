"""The archive's read/write API: the only place that opens sessions (storage/incremental.py and
storage/bulk.py run their SQL inside them).

Each article is saved whole (article row, its new revision, aliases, raw body, fetch row
together) inside one short transaction, alone (:meth:`Archive.save_article`) or with a batch of
others (:meth:`Archive.save_articles`), so a crash at any moment leaves either all of it or none.
Readers stream in batches and never hold a write lock, so an export or a search never blocks a
running crawl.

Example::

    archive = Archive.open("sqlite:///newsvault.db")
    run_id = archive.start_run("example-news")
    outcome = archive.save_article(run_id, record, fetch)
    archive.finish_run(run_id, "ok", {"articles_new": 1})
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from common.dates import is_later
from common.errors import StorageError
from common.fingerprint import MAX_BAND_DISTANCE, normalise_title, text_fingerprint
from common.urls import canonical_url
from storage import incremental as inc
from storage.bodies import PackedBody, pack_body
from storage.bulk import save_plain_new
from storage.db import open_engine
from storage.models import Article, Backoff, Body, Failure, Fetch, Run
from storage.records import (
    ArticleRecord,
    FetchRecord,
    content_columns,
    fetch_columns,
    header_value,
)

__all__ = [
    "Archive",
    "ArticleRecord",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "FetchRecord",
    "Outcome",
    "RUN_COUNTERS",
    "UrlState",
    "utcnow",
]

UrlState = inc.UrlState

T = TypeVar("T")

RUN_COUNTERS = (
    "pages_fetched",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_skipped",
    "errors",
)


#: Back-off after a 429/503 without Retry-After: BASE seconds, doubled per refusal in a row.
BACKOFF_BASE = 60.0
#: The longest any URL is put off (also caps a server's Retry-After).
BACKOFF_MAX = 7 * 86400.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


_WHY = (
    ("readonly", "the archive file or its folder is read-only"),
    ("disk is full", "the disk is full"),
    ("disk i/o error", "the disk is full or the file cannot be written"),
    ("unable to open", "the archive file cannot be opened"),
)


def _explain(exc: OperationalError) -> str:
    """The database's own message, with what it most likely means for the user."""
    text = str(exc.orig)
    for needle, why in _WHY:
        if needle in text.lower():
            return f"{text} ({why})"
    return text


def utcnow() -> datetime:
    return datetime.now(UTC)


class Outcome(StrEnum):
    """What :meth:`Archive.save_article` did with an article."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


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
        "revisions": a.revision_count,
    }


class Archive:
    """Read and write access to one archive database."""

    def __init__(
        self, engine: Engine, *, near_duplicate_distance: int | None = MAX_BAND_DISTANCE
    ) -> None:
        self.engine = engine
        self.near_duplicate_distance = near_duplicate_distance

    @classmethod
    def open(
        cls,
        url: str,
        *,
        readonly: bool = False,
        near_duplicate_distance: int | None = MAX_BAND_DISTANCE,
    ) -> Archive:
        """Open (creating and migrating if needed) the archive at a SQLAlchemy URL.

        ``near_duplicate_distance``: a new article whose text simhash is within this many bits
        of an article of the same source is recorded as its alias (None: exact text only).
        Raises StorageError when the archive cannot be opened or migrated."""
        engine = open_engine(url, migrate_schema=not readonly, readonly=readonly)
        return cls(engine, near_duplicate_distance=near_duplicate_distance)

    def close(self) -> None:
        self.engine.dispose()

    # -- writing -------------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StorageError now if the archive cannot be written (a read-only file, folder or
        database), so a crawl stops before fetching anything. Writes nothing."""
        try:
            with self.engine.connect() as conn, conn.begin() as tx:
                # SQLite takes the write lock here (BEGIN IMMEDIATE); any database refuses an
                # UPDATE when it is read-only, even one that matches no row.
                conn.execute(update(Run).where(Run.id == -1).values(status="running"))
                tx.rollback()
        except OperationalError as exc:
            raise StorageError(f"cannot write to the archive: {_explain(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot write to the archive: {exc}") from exc

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
                    raise StorageError(f"cannot write to the archive: {_explain(exc)}") from exc
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
            run = Run(
                source=source, trigger=trigger, started_at=utcnow(), status="running", pid=pid
            )
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
            return self._write(fn)
        except IntegrityError as exc:  # still violated after the retries: this data is refused
            raise StorageError(f"cannot write to the archive: {exc.orig}") from exc

    def _save_one(
        self, s: Session, run_id: int | None, rec: ArticleRecord, fetch: FetchRecord
    ) -> Outcome:
        """The body of :meth:`save_article`, inside the caller's transaction.

        A new URL whose text equals (or nearly equals) an article of the same source becomes an
        alias of that article (DUPLICATE, its fetch kept). A known article whose title or
        normalised text changed gets a new revision and becomes that revision (UPDATED)."""
        art = inc.find_article(s, rec.url)
        if art is None:
            dup = inc.content_duplicate(
                s, rec.source, rec.text_hash, rec.simhash, self.near_duplicate_distance
            )
            if dup is not None:
                art_id, reason = dup
                inc.add_alias(s, rec.url, art_id, reason, fetch.fetched_at)
                self._add_fetch(s, run_id, art_id, fetch, self._put_body(s, fetch.body))
                return Outcome.DUPLICATE
        digest = self._put_body(s, fetch.body)
        fields = content_columns(rec)
        if art is None:
            art = Article(
                source=rec.source,
                url=rec.url,
                first_fetched_at=fetch.fetched_at,
                last_fetched_at=fetch.fetched_at,
                last_changed_at=fetch.fetched_at,
                body_sha256=digest,
                revision_count=1,
                **fields,
            )
            inc.set_simhash(art, rec.simhash)
            s.add(art)
            s.flush()
            inc.add_revision(s, art, 1, fetch.fetched_at, run_id)
            outcome = Outcome.NEW
        elif not self._changed(art, rec):
            art.last_fetched_at = fetch.fetched_at
            art.body_sha256 = digest
            outcome = Outcome.UNCHANGED
        else:
            for k, v in fields.items():
                setattr(art, k, v)
            inc.set_simhash(art, rec.simhash)
            art.last_fetched_at = fetch.fetched_at
            art.last_changed_at = fetch.fetched_at
            art.body_sha256 = digest
            art.revision_count = (art.revision_count or 1) + 1
            s.flush()
            inc.add_revision(s, art, art.revision_count, fetch.fetched_at, run_id)
            outcome = Outcome.UPDATED
        art.etag = header_value(fetch.headers, "etag")
        art.last_modified = header_value(fetch.headers, "last-modified")
        if is_later(fetch.lastmod, art.listed_lastmod):
            art.listed_lastmod = fetch.lastmod
        fetched_key = canonical_url(fetch.url)
        if fetched_key != art.url:
            inc.add_alias(s, fetched_key, art.id, "canonical", fetch.fetched_at)
        s.flush()
        s.execute(delete(Backoff).where(Backoff.url.in_({fetch.url, rec.url})))
        self._add_fetch(s, run_id, art.id, fetch, digest)
        return outcome

    @staticmethod
    def _changed(art: Article, rec: ArticleRecord) -> bool:
        """The revision test: the title or the normalised text differs. The stored text is
        fingerprinted again, so a change of normalisation never makes a revision by itself."""
        if normalise_title(art.title) != normalise_title(rec.title):
            return True
        if art.text_hash == rec.text_hash:
            return False
        return text_fingerprint(art.text) != rec.text_hash

    @staticmethod
    def _add_fetch(
        s: Session, run_id: int | None, article_id: int, fetch: FetchRecord, digest: str
    ) -> None:
        s.add(Fetch(**fetch_columns(fetch, run_id, article_id, digest)))

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

        return self._write(fn)

    def record_alias(self, url: str, target: str, reason: str) -> bool | None:
        """Record ``url`` as another URL of the article stored under ``target``. None when no
        such article is stored (yet); False when ``url`` was already known."""

        def fn(s: Session) -> bool | None:
            art = inc.find_article(s, target, content=True)
            if art is None:
                return None
            return inc.add_alias(s, url, art.id, reason, utcnow())

        return self._write(fn)

    def save_validators(
        self, source: str, values: Mapping[str, tuple[str | None, str | None]]
    ) -> None:
        """Store the ETag / Last-Modified of feeds and sitemaps fetched in a completed run."""
        if values:
            self._write(lambda s: inc.save_validators(s, source, values, utcnow()))

    def bulk_insert_articles(
        self, records: Iterable[ArticleRecord], at: datetime, *, batch: int = 5000
    ) -> int:
        """Insert many new articles (no raw bodies, no fetches), ``batch`` rows per transaction.

        For generated archives (benchmarks, demos): it skips the per-article dedupe of
        :meth:`save_article`. Raises :class:`StorageError` on a write error (e.g. a duplicate URL).
        """
        n = 0
        chunk: list[dict[str, Any]] = []

        def flush(rows: list[dict[str, Any]]) -> None:
            self._write(lambda s: s.execute(insert(Article), rows))

        for rec in records:
            chunk.append(
                {
                    "source": rec.source,
                    "url": rec.url,
                    **content_columns(rec),
                    "first_fetched_at": at,
                    "last_fetched_at": at,
                    "last_changed_at": at,
                }
            )
            if len(chunk) >= batch:
                flush(chunk)
                n, chunk = n + len(chunk), []
        if chunk:
            flush(chunk)
            n += len(chunk)
        return n

    def update_extraction(self, changes: Iterable[tuple[int, ArticleRecord]]) -> int:
        """Replace text and metadata of existing articles (re-extraction), in one transaction.

        Keeps each article's URL, source and fetch history; returns how many rows were updated.
        Raises :class:`StorageError` when the archive cannot be written.
        """

        def fn(s: Session) -> int:
            n = 0
            for article_id, rec in changes:
                result: Any = s.execute(
                    update(Article)
                    .where(Article.id == article_id)
                    .values(**content_columns(rec))
                )
                n += int(result.rowcount)
            return n

        return self._write(fn)

    def record_failure(
        self,
        run_id: int | None,
        source: str,
        url: str,
        kind: str,
        reason: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Record that ``url`` could not be archived, and why.

        ``retry_after`` (seconds; 0 when the server gave no Retry-After) marks a "come back
        later" answer (HTTP 429/503): the URL is then put off, in the same transaction, until
        the server's time or, without one, an exponential back-off (see :meth:`waiting_urls`).
        Raises StorageError when the archive cannot be written.
        """

        def fn(s: Session) -> None:
            now = utcnow()
            s.add(
                Failure(
                    run_id=run_id,
                    source=source,
                    url=url,
                    at=now,
                    kind=kind,
                    status=status,
                    reason=reason[:2000],
                )
            )
            if retry_after is not None:
                self._put_off(s, source, url, reason, retry_after, now)

        self._write(fn)

    def _put_off(
        self, s: Session, source: str, url: str, reason: str, retry_after: float, now: datetime
    ) -> None:
        row = s.get(Backoff, url)
        attempts = (row.attempts + 1) if row is not None else 1
        delay = retry_after if retry_after > 0 else BACKOFF_BASE * 2 ** (attempts - 1)
        not_before = now + timedelta(seconds=min(delay, BACKOFF_MAX))
        if row is None:
            s.add(Backoff(url=url, source=source, not_before=not_before, attempts=1, reason=reason))
        else:
            row.not_before, row.attempts, row.reason = not_before, attempts, reason

    def waiting_urls(self, source: str, now: datetime | None = None) -> dict[str, datetime]:
        """URLs of ``source`` that must not be fetched yet, with the time they are due."""
        now = now or utcnow()
        with Session(self.engine) as s:
            q = select(Backoff.url, Backoff.not_before).where(Backoff.source == source)
            return {url: due for url, due in s.execute(q) if due > now}

    def close_stale_runs(self, source: str) -> int:
        """Mark runs of ``source`` left "running" by a process that no longer exists as
        "interrupted" (it was killed, or the machine stopped); return how many.

        Runs whose process is still alive (another crawl of the same source) are left alone.
        Raises StorageError when the archive cannot be written.
        """

        def fn(s: Session) -> int:
            q = select(Run).where(Run.source == source, Run.status == "running")
            stale = [r for r in s.scalars(q) if r.pid != os.getpid() and not _alive(r.pid)]
            for r in stale:
                r.status = "interrupted"
                r.finished_at = utcnow()
                r.message = f"process {r.pid} ended before the run finished (killed or crashed)"
            return len(stale)

        def _alive(pid: int | None) -> bool:
            return pid is not None and _pid_alive(pid)

        return self._write(fn)

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
        self,
        sources: tuple[str, ...] = (),
        *,
        since: date | None = None,
        until: date | None = None,
        batch: int = 500,
        revisions: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Stream articles in id order, ``batch`` rows per query (keyset paging).

        ``since``/``until`` keep articles published in that range (inclusive). With
        ``revisions``, each carries ``history``: every revision, oldest first.
        """
        last = 0
        while True:
            with Session(self.engine) as s:
                q = select(Article).where(Article.id > last).order_by(Article.id).limit(batch)
                if sources:
                    q = q.where(Article.source.in_(sources))
                if since is not None:
                    q = q.where(Article.published_at >= since.isoformat())
                if until is not None:
                    q = q.where(Article.published_at < (until + timedelta(days=1)).isoformat())
                rows = [_article_dict(a) for a in s.scalars(q)]
                if revisions and rows:
                    history = inc.load_revisions(s, (r["id"] for r in rows))
                    for r in rows:
                        r["history"] = history[r["id"]]
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def url_states(self, source: str) -> dict[str, inc.UrlState]:
        """The fetch state of every article URL (and alias) of ``source``, in one query each."""
        with Session(self.engine) as s:
            return inc.load_url_states(s, source)

    def retry_urls(self, source: str, since: datetime) -> list[str]:
        """Article URLs of ``source`` that failed transiently since ``since``, not archived."""
        with Session(self.engine) as s:
            return inc.load_retry_urls(s, source, since)

    def validators(self, source: str) -> dict[str, tuple[str | None, str | None]]:
        """``{url: (etag, last_modified)}`` of the feeds and sitemaps of ``source``."""
        with Session(self.engine) as s:
            return inc.load_validators(s, source)

    def history(self, url: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The article stored under ``url`` (or an alias of it) and its revisions, oldest
        first; None when there is none."""
        key = canonical_url(url)
        with Session(self.engine) as s:
            art = inc.find_article(s, key, content=True) or inc.find_article(s, url, content=True)
            if art is None:
                return None
            return _article_dict(art), inc.load_revisions(s, [art.id])[art.id]

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
