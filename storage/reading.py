"""Read APIs for using the archive: one article with its fetches, fetch streams for WARC,
recent articles, run history, and per-source statistics.

Every function takes an engine (a read-only one is enough), reads in short transactions and
streams large results in keyset-paged batches, so an export never holds the archive in memory
and never blocks a running crawl. Raises :class:`~common.errors.StorageError` when the
archive cannot be read.

Example::

    engine = Archive.open(url, readonly=True).engine
    art = lookup_article(engine, "https://example.com/2026/11/story/?utm_source=feed")
    for fetch in iter_fetches(engine, sources=("example-news",)):
        print(fetch.url, fetch.fetched_at, fetch.status)
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, Select, case, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.errors import StorageError
from common.urls import canonical_url, http_url
from storage.base import ArchiveBase, explain
from storage.incremental import find_article, load_revisions
from storage.models import Article, Body, Failure, Fetch, Run
from storage.runlog import run_dict

__all__ = [
    "ArchiveReader",
    "FetchRow",
    "article_dict",
    "article_filter",
    "database_size",
    "fetches_of",
    "iter_fetches",
    "iter_latest_bodies",
    "lookup_article",
    "recent_articles",
    "run_by_id",
    "source_names",
    "source_stats",
]


@dataclass(frozen=True, slots=True)
class FetchRow:
    """One archived HTTP response: the article it belongs to, and the raw body as fetched."""

    id: int
    article_id: int | None
    url: str
    fetched_at: datetime
    status: int
    headers: dict[str, Any]
    body: bytes
    source: str = ""
    article_url: str = ""
    paywalled: bool = False
    rendered: bool = False  # a rendered DOM of this fetch is kept (fetches.rendered_sha256)


def article_filter(
    q: Select[Any],
    sources: tuple[str, ...] = (),
    since: date | None = None,
    until: date | None = None,
    paywalled: bool | None = None,
) -> Select[Any]:
    """Restrict a select over articles to sources, a publication-date range (inclusive) and,
    with ``paywalled`` True or False, paywalled or free articles."""
    if paywalled is not None:
        q = q.where(Article.paywalled.is_(paywalled))
    if sources:
        q = q.where(Article.source.in_(sources))
    if since is not None:
        q = q.where(Article.published_at >= since.isoformat())
    if until is not None:
        q = q.where(Article.published_at < (until + timedelta(days=1)).isoformat())
    return q


def _read(engine: Engine, fn: Any) -> Any:
    try:
        with Session(engine) as s:
            return fn(s)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the archive: {explain(exc)}") from exc


def _resolve(s: Session, ref: str) -> Article | None:
    """The one rule for what a reference names (see :func:`lookup_article`)."""
    if ref.isascii() and ref.isdigit():
        return s.get(Article, int(ref))
    keys = [ref]
    try:
        keys.append(canonical_url(ref))
    except ValueError:  # not a URL urllib can parse ("http://[x"): only the text as given
        pass
    keys = list(dict.fromkeys(keys))
    for key in keys:
        art = find_article(s, key, content=True)
        if art is not None:
            return art
    fetched = s.scalar(
        select(Fetch.article_id).where(Fetch.url.in_(keys)).order_by(Fetch.id.desc()).limit(1)
    )
    return s.get(Article, fetched) if fetched is not None else None


def lookup_article(engine: Engine, ref: str) -> dict[str, Any] | None:
    """The article ``ref`` names (with ``body_sha256``), or None. The one lookup of a reference
    that the CLI (show, history, diff) and the web view use.

    ``ref`` is an article id (digits), or a URL: the article's own, one of its aliases
    (tracking, AMP, print and canonical variants, redirects, and pages with the same or nearly
    the same text), or a URL it was fetched at; each as given, then in its canonical form
    (:func:`common.urls.canonical_url`: tracking parameters, AMP and print variants, case,
    default port and fragment folded away).
    """

    def fn(s: Session) -> dict[str, Any] | None:
        art = _resolve(s, ref)
        return {**article_dict(art), "body_sha256": art.body_sha256} if art else None

    result: dict[str, Any] | None = _read(engine, fn)
    return result


def fetches_of(engine: Engine, article_id: int) -> list[dict[str, Any]]:
    """Every fetch of one article, oldest first, without bodies."""

    def fn(s: Session) -> list[dict[str, Any]]:
        q = select(Fetch).where(Fetch.article_id == article_id).order_by(Fetch.id)
        return [
            {
                "id": f.id,
                "url": f.url,
                "fetched_at": f.fetched_at.isoformat(),
                "status": f.status,
                "body_sha256": f.body_sha256,
                "run_id": f.run_id,
            }
            for f in s.scalars(q)
        ]

    result: list[dict[str, Any]] = _read(engine, fn)
    return result


def iter_fetches(
    engine: Engine,
    sources: tuple[str, ...] = (),
    since: date | None = None,
    until: date | None = None,
    *,
    batch: int = 200,
    paywalled: bool | None = None,
) -> Iterator[FetchRow]:
    """Stream every fetch of the selected articles, in fetch order, with its raw body (the page
    as fetched, also for a rendered page)."""
    last = 0
    while True:

        def fn(s: Session, last: int = last) -> list[FetchRow]:
            q = (
                select(Fetch, Body.zdata, Article.source, Article.url, Article.paywalled)
                .join(Body, Body.sha256 == Fetch.body_sha256)
                .join(Article, Article.id == Fetch.article_id)
                .where(Fetch.id > last)
                .order_by(Fetch.id)
                .limit(batch)
            )
            q = article_filter(q, sources, since, until, paywalled)  # type: ignore[arg-type]
            rows: list[Any] = list(s.execute(q))
            return [
                FetchRow(
                    id=f.id,
                    article_id=f.article_id,
                    url=f.url,
                    fetched_at=f.fetched_at,
                    status=f.status,
                    headers=dict(f.headers or {}),
                    body=zlib.decompress(zdata),
                    source=source,
                    article_url=article_url,
                    paywalled=bool(walled),
                    rendered=f.rendered_sha256 is not None,
                )
                for f, zdata, source, article_url, walled in rows
            ]

        rows: list[FetchRow] = _read(engine, fn)
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def source_names(engine: Engine) -> list[str]:
    """Every source that has articles or runs, sorted."""

    def fn(s: Session) -> list[str]:
        names = set(s.scalars(select(Article.source).distinct()))
        names |= set(s.scalars(select(Run.source).distinct()))
        return sorted(names)

    result: list[str] = _read(engine, fn)
    return result


def recent_articles(
    engine: Engine, source: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest articles (by publication date, then first fetch), without their text."""

    def fn(s: Session) -> list[dict[str, Any]]:
        q = select(
            Article.id,
            Article.source,
            Article.url,
            Article.title,
            Article.published_at,
            Article.first_fetched_at,
        ).order_by(
            Article.published_at.desc().nulls_last(),
            Article.first_fetched_at.desc(),
            Article.id.desc(),
        )
        if source:
            q = q.where(Article.source == source)
        return [
            {
                "id": r.id,
                "source": r.source,
                "url": r.url,
                "title": r.title,
                "published_at": r.published_at,
                "first_fetched_at": r.first_fetched_at.isoformat(),
            }
            for r in s.execute(q.limit(limit))
        ]

    result: list[dict[str, Any]] = _read(engine, fn)
    return result


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def source_stats(engine: Engine) -> list[dict[str, Any]]:
    """Per source: articles, first/last article date, runs, failure rate, extraction health.

    ``failure_rate`` is failed URLs / (failed URLs + successful fetches). Extraction health is
    the share of articles with empty text, with no publication date, with no author.
    """

    def fn(s: Session) -> list[dict[str, Any]]:
        no_authors = func.coalesce(func.json_array_length(Article.authors), 0) == 0
        arts = {
            r.source: r
            for r in s.execute(
                select(
                    Article.source,
                    func.count().label("n"),
                    func.min(Article.published_at).label("first"),
                    func.max(Article.published_at).label("last"),
                    func.sum(case((Article.text == "", 1), else_=0)).label("empty"),
                    func.sum(case((Article.published_at.is_(None), 1), else_=0)).label("nodate"),
                    func.sum(case((no_authors, 1), else_=0)).label("noauthor"),
                    func.sum(case((Article.paywalled, 1), else_=0)).label("paywalled"),
                ).group_by(Article.source)
            )
        }
        runs = dict(s.execute(select(Run.source, func.count()).group_by(Run.source)).all())
        fails = dict(s.execute(select(Failure.source, func.count()).group_by(Failure.source)).all())
        fetches = dict(
            s.execute(
                select(Article.source, func.count(Fetch.id))
                .join(Fetch, Fetch.article_id == Article.id)
                .group_by(Article.source)
            ).all()
        )
        out = []
        for name in sorted(set(arts) | set(runs) | set(fails)):
            a = arts.get(name)
            n = int(a.n) if a else 0
            failed, fetched = int(fails.get(name, 0)), int(fetches.get(name, 0))
            out.append(
                {
                    "source": name,
                    "articles": n,
                    "first_published": a.first if a else None,
                    "last_published": a.last if a else None,
                    "runs": int(runs.get(name, 0)),
                    "fetches": fetched,
                    "failures": failed,
                    "failure_rate": _share(failed, failed + fetched),
                    "empty_text": _share(int(a.empty or 0), n) if a else 0.0,
                    "missing_date": _share(int(a.nodate or 0), n) if a else 0.0,
                    "missing_authors": _share(int(a.noauthor or 0), n) if a else 0.0,
                    "paywalled": _share(int(a.paywalled or 0), n) if a else 0.0,
                }
            )
        return out

    result: list[dict[str, Any]] = _read(engine, fn)
    return result


def database_size(engine: Engine) -> int:
    """Bytes the archive takes: the SQLite file plus its WAL, or on PostgreSQL its own tables
    with their indexes and TOAST (the archive is the schema first on the search path; the
    database may hold others)."""
    if engine.dialect.name == "sqlite":
        db = engine.url.database or ""
        if db.startswith("file:"):  # a read-only engine: a percent-encoded file: URI
            db = unquote(db.removeprefix("file:").split("?", 1)[0])
        path = Path(db)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    if engine.dialect.name == "postgresql":

        def fn(s: Session) -> int:
            sql = text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'm') AND n.nspname = current_schema()"
            )
            return int(s.scalar(sql) or 0)

        result: int = _read(engine, fn)
        return result
    return 0


_RENDERED_HEADERS = {"Content-Type": "text/html; charset=utf-8"}  # a rendered DOM as stored


def iter_latest_bodies(
    engine: Engine, sources: tuple[str, ...] = (), *, batch: int = 200
) -> Iterator[tuple[dict[str, Any], str, dict[str, Any], bytes | None]]:
    """Stream (article, URL of its last fetch, that fetch's headers, raw body or None).

    For a rendered fetch (``render:``) the body is the rendered DOM it was extracted from, as
    UTF-8 with a matching Content-Type, not the page as fetched."""
    last = 0
    while True:

        def fn(s: Session, last: int = last) -> list[Any]:
            latest = (
                select(func.max(Fetch.id))
                .where(Fetch.article_id == Article.id)
                .correlate(Article)
                .scalar_subquery()
            )
            q = (
                select(Article, Fetch.url, Fetch.headers, Body.zdata, Fetch.rendered_sha256)
                .outerjoin(Fetch, Fetch.id == latest)
                .outerjoin(
                    Body, Body.sha256 == func.coalesce(Fetch.rendered_sha256, Article.body_sha256)
                )
                .where(Article.id > last)
                .order_by(Article.id)
                .limit(batch)
            )
            if sources:
                q = q.where(Article.source.in_(sources))
            return [
                (
                    article_dict(a),
                    url or a.url,
                    _RENDERED_HEADERS if rendered else dict(headers or {}),
                    zlib.decompress(zdata) if zdata is not None else None,
                )
                for a, url, headers, zdata, rendered in s.execute(q)
            ]

        rows = _read(engine, fn)
        if not rows:
            return
        yield from rows
        last = rows[-1][0]["id"]


def run_by_id(engine: Engine, run_id: int) -> dict[str, Any] | None:
    """One run with its counters, or None."""

    def fn(s: Session) -> dict[str, Any] | None:
        r = s.get(Run, run_id)
        return run_dict(r) if r is not None else None

    result: dict[str, Any] | None = _read(engine, fn)
    return result


def article_dict(a: Article) -> dict[str, Any]:
    """An article as a plain dict: its content and when it was fetched and changed."""
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
        "image_url": http_url(a.image_url),  # an archive written before the check may hold others
        "text": a.text,
        "markdown": a.markdown,
        "paywalled": bool(a.paywalled),
        "first_fetched_at": a.first_fetched_at.isoformat(),
        "fetched_at": a.last_fetched_at.isoformat(),
        "last_changed_at": a.last_changed_at.isoformat(),
        "revisions": a.revision_count,
    }


class ArchiveReader(ArchiveBase):
    """Reading articles back: one, counted, streamed, with their history, and raw pages."""

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
        paywalled: bool | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream articles in id order, ``batch`` rows per query (keyset paging).

        ``since``/``until`` keep articles published in that range (inclusive); ``paywalled``
        True or False keeps paywalled or free articles only. With
        ``revisions``, each carries ``history``: every revision, oldest first.
        """
        last = 0
        while True:
            with Session(self.engine) as s:
                q = select(Article).where(Article.id > last).order_by(Article.id).limit(batch)
                q = article_filter(q, sources, since, until, paywalled)
                rows = [article_dict(a) for a in s.scalars(q)]
                if revisions and rows:
                    history = load_revisions(s, (r["id"] for r in rows))
                    for r in rows:
                        r["history"] = history[r["id"]]
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def history(self, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The article ``ref`` names (as :func:`lookup_article` resolves it) and its revisions,
        oldest first; None when there is none."""

        def fn(s: Session) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            art = _resolve(s, ref)
            if art is None:
                return None
            return article_dict(art), load_revisions(s, [art.id])[art.id]

        result: tuple[dict[str, Any], list[dict[str, Any]]] | None = _read(self.engine, fn)
        return result

    def raw_body(self, sha256: str) -> bytes | None:
        with Session(self.engine) as s:
            body = s.get(Body, sha256)
            return zlib.decompress(body.zdata) if body else None
