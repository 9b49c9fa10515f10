"""newsvault as a library: open an archive, search it, read its articles, extract a page.

A small, stable face over :mod:`storage` and :mod:`pipeline` (documented in docs/api.md)::

    from newsvault.api import open_archive

    with open_archive("newsvault.db") as archive:
        for hit in archive.search("harbour dredging", limit=5):
            print(hit.title, hit.url)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.extract import Article, ExtractOptions, extract_article
from storage.search import SearchHit

__all__ = ["Article", "ArchiveView", "SearchHit", "extract", "open_archive"]


class ArchiveView:
    """An archive opened read-only; it never blocks a running crawl. Use as a context manager
    (or call :meth:`close`). Articles are plain dicts (id, source, url, title, authors,
    published_at, language, tags, text, revisions, ...)."""

    def __init__(self, archive: Any) -> None:
        self._archive = archive

    def search(
        self,
        query: str,
        *,
        sources: tuple[str, ...] = (),
        since: date | None = None,
        until: date | None = None,
        language: str | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Full-text search of titles and texts, best first (the syntax of ``newsvault
        search``). Raises :class:`storage.search.QuerySyntaxError` for a malformed query."""
        from storage.search import SearchQuery, search

        q = SearchQuery(query, tuple(sources), since, until, language, limit)
        return search(self._archive.engine, q)

    def articles(
        self,
        *,
        sources: tuple[str, ...] = (),
        since: date | None = None,
        until: date | None = None,
        revisions: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every article (of ``sources``, published between ``since`` and ``until``), in id
        order, streamed; with ``revisions``, each has ``history``: its revisions, oldest first."""
        rows: Iterator[dict[str, Any]] = self._archive.iter_articles(
            sources, since=since, until=until, revisions=revisions
        )
        return rows

    def article(self, ref: int | str) -> dict[str, Any] | None:
        """One article by id or by URL (any URL it was seen at), or None."""
        from storage.reading import lookup_article

        return lookup_article(self._archive.engine, str(ref))

    def count(self, source: str | None = None) -> int:
        return int(self._archive.count_articles(source))

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> ArchiveView:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_archive(where: str | Path) -> ArchiveView:
    """Open an archive read-only: a SQLite file's path, or a database URL
    (``sqlite:///...``, ``postgresql+psycopg://...``). Raises :class:`common.errors.StorageError`
    when it cannot be opened."""
    from storage.repository import Archive

    url = str(where)
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    return ArchiveView(Archive.open(url, readonly=True))


def extract(html: str | bytes, url: str, options: ExtractOptions | None = None) -> Article:
    """A page's article with newsvault's extraction (what a crawl stores); nothing is stored.
    Raises :class:`common.errors.NotAnArticle` for listings, login pages and pages without a
    body, :class:`common.errors.ExtractionError` when the page cannot be extracted."""
    return extract_article(html, url, options)
