"""Earlier versions of an article, for the archive's readers (``show --revision``, the web view).

The ``revisions`` table belongs to incremental re-crawling (another part of newsvault). This
module is the small interface the readers use, and it degrades gracefully: on an archive without
that table, :func:`revisions_available` is False and :func:`list_revisions` returns ``[]``.

Each revision is a dict ``{"number": 1.., "at": ISO time or None, "title", "text",
"body_sha256"}``, oldest first; the article's current state is always the newest. Columns are
read by name from the table as it exists, so small schema differences do not break reading.

Example::

    for rev in list_revisions(engine, article_id):
        print(rev["number"], rev["at"], len(rev["text"]))
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from common.errors import StorageError

__all__ = ["get_revision", "list_revisions", "revision_counts", "revisions_available"]

_NUMBER = ("number", "revision", "seq", "version", "n")
_TIME = ("seen_at", "fetched_at", "created_at", "changed_at", "at", "valid_from", "recorded_at")


def revisions_available(engine: Engine) -> bool:
    """True when the archive has a ``revisions`` table with an ``article_id`` column."""
    try:
        insp = inspect(engine)
        if not insp.has_table("revisions"):
            return False
        return any(c["name"] == "article_id" for c in insp.get_columns("revisions"))
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the archive: {exc}") from exc


def _pick(cols: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in cols:
            return cols[name]
    return None


def list_revisions(engine: Engine, article_id: int) -> list[dict[str, Any]]:
    """The article's revisions, oldest first, numbered from 1; ``[]`` without the table."""
    if not revisions_available(engine):
        return []
    try:
        table = Table("revisions", MetaData(), autoload_with=engine)
        cols = table.c
        number, at = _pick(cols, _NUMBER), _pick(cols, _TIME)
        order = [c for c in (number, at, _pick(cols, ("id",))) if c is not None]
        q = select(table).where(cols["article_id"] == article_id).order_by(*order)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the revisions: {exc}") from exc
    out = []
    for i, row in enumerate(rows, start=1):
        when = row.get(at.name) if at is not None else None
        if isinstance(when, datetime):
            when = when.isoformat()
        out.append(
            {
                "number": int(row[number.name]) if number is not None else i,
                "at": when,
                "title": row.get("title"),
                "text": row.get("text") or "",
                "body_sha256": row.get("body_sha256"),
            }
        )
    return out


def get_revision(engine: Engine, article_id: int, number: int) -> dict[str, Any] | None:
    """Revision ``number`` of the article, or None."""
    for rev in list_revisions(engine, article_id):
        if rev["number"] == number:
            return rev
    return None


def revision_counts(engine: Engine) -> dict[str, int] | None:
    """Revisions per source, or None when the archive keeps no revisions."""
    if not revisions_available(engine):
        return None
    try:
        table = Table("revisions", MetaData(), autoload_with=engine)
        from sqlalchemy import func

        from storage.models import Article

        q = (
            select(Article.source, func.count())
            .select_from(table.join(Article.__table__, Article.id == table.c["article_id"]))
            .group_by(Article.source)
        )
        with engine.connect() as conn:
            return {src: int(n) for src, n in conn.execute(q)}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the revisions: {exc}") from exc
