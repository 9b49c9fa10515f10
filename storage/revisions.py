"""Earlier versions of an article, for the archive's readers (``show --revision``, the web view).

The revisions are read by :func:`storage.incremental.load_revisions`, the one reader of the
``revisions`` table (``history``, ``diff`` and ``export --revisions`` use it too); this module
is the small view the readers use, and it degrades gracefully: on an archive without that table,
:func:`revisions_available` is False and :func:`list_revisions` returns ``[]``.

Each revision is a dict ``{"number": 1.., "at": ISO time (UTC), "title", "text",
"body_sha256"}``, oldest first; the article's current state is always the newest.

Example::

    for rev in list_revisions(engine, article_id):
        print(rev["number"], rev["at"], len(rev["text"]))
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.errors import StorageError
from storage.base import explain
from storage.incremental import load_revisions
from storage.models import Article, Revision

__all__ = ["get_revision", "list_revisions", "revision_counts", "revisions_available"]


def revisions_available(engine: Engine) -> bool:
    """True when the archive has a ``revisions`` table with an ``article_id`` column."""
    try:
        insp = inspect(engine)
        if not insp.has_table("revisions"):
            return False
        return any(c["name"] == "article_id" for c in insp.get_columns("revisions"))
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the archive: {explain(exc)}") from exc


def list_revisions(engine: Engine, article_id: int) -> list[dict[str, Any]]:
    """The article's revisions, oldest first, numbered from 1; ``[]`` without the table."""
    if not revisions_available(engine):
        return []
    try:
        with Session(engine) as s:
            revisions = load_revisions(s, [article_id])[article_id]
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the revisions: {exc}") from exc
    return [
        {
            "number": r["number"],
            "at": r["seen_at"],
            "title": r["title"],
            "text": r["text"],
            "body_sha256": r["body_sha256"],
        }
        for r in revisions
    ]


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
    q = (
        select(Article.source, func.count(Revision.id))
        .join(Revision, Revision.article_id == Article.id)
        .group_by(Article.source)
    )
    try:
        with Session(engine) as s:
            return {src: int(n) for src, n in s.execute(q)}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the revisions: {exc}") from exc
