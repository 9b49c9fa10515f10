"""Full-text search over the archive: ranked hits with highlighted snippets.

SQLite uses the FTS5 table ``articles_fts`` (kept in sync by triggers from migration 0003) with
FTS5 query syntax: words (all must match), ``"exact phrase"``, ``OR``, ``NOT``, ``prefix*``,
``title:word``; a query that is not valid FTS5 syntax is read as literal words
(:func:`literal_queries`). Hits are ranked by bm25 with the title weighted above the text.
PostgreSQL uses its own full-text search (``websearch_to_tsquery``: words, ``"phrase"``,
``or``, ``-word``) over the generated ``search_vector`` column, ranked by ``ts_rank``.

Snippets mark each matching term with :data:`MARK_START` / :data:`MARK_END` (private-use
characters that never occur in archived text), so each front end escapes the snippet first and
then turns the marks into its own highlighting.

Example::

    hits = search(archive.engine, SearchQuery("harbour dredging", sources=("gazette",)))
    for hit in hits:
        print(hit.title, render_marks(hit.snippet, "[", "]"))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from common.errors import NewsvaultError, StorageError

__all__ = [
    "MARK_END",
    "MARK_START",
    "QuerySyntaxError",
    "SearchHit",
    "SearchQuery",
    "fts_query",
    "literal_queries",
    "render_marks",
    "search",
]

MARK_START, MARK_END = "\ue000", "\ue001"
_ELLIPSIS = "…"


class QuerySyntaxError(NewsvaultError):
    """Raised by :func:`search` when the database rejects the query's syntax.

    The message says what was wrong and how to write it, ready to show a user.
    """


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to look for. ``since``/``until`` bound the publication date (inclusive)."""

    query: str
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    language: str | None = None
    limit: int = 20
    paywalled: bool | None = None  # True: paywalled articles only; False: free ones only


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching article, best first; ``rank``: higher is better."""

    id: int
    url: str
    source: str
    title: str | None
    published_at: str | None
    language: str | None
    snippet: str
    rank: float
    paywalled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "title": self.title,
            "published_at": self.published_at,
            "language": self.language,
            "snippet": self.snippet.replace(MARK_START, "").replace(MARK_END, ""),
            "snippet_marked": render_marks(self.snippet, "[", "]"),
            "rank": self.rank,
            "paywalled": self.paywalled,
        }


def render_marks(snippet: str, start: str, end: str) -> str:
    """Replace the snippet's marks by ``start``/``end`` (escape the snippet first for HTML)."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def _filters(q: SearchQuery, params: dict[str, Any]) -> str:
    where = []
    if q.sources:
        names = []
        for i, name in enumerate(q.sources):
            params[f"src{i}"] = name
            names.append(f":src{i}")
        where.append(f"a.source IN ({', '.join(names)})")
    if q.since is not None:
        params["since"] = q.since.isoformat()
        where.append("a.published_at >= :since")
    if q.until is not None:
        params["until"] = (q.until + timedelta(days=1)).isoformat()
        where.append("a.published_at < :until")
    if q.language:
        params["lang"] = q.language.lower()
        params["lang_prefix"] = q.language.lower() + "-%"
        where.append("(lower(a.language) = :lang OR lower(a.language) LIKE :lang_prefix)")
    if q.paywalled is not None:
        params["paywalled"] = q.paywalled
        where.append("a.paywalled = :paywalled")
    return "".join(f" AND {w}" for w in where)


# The best ``limit`` rows are ranked first (bm25 only); snippets are then made for those rows
# alone. CROSS JOIN keeps that order: SQLite would otherwise scan every match of the query a
# second time (four times slower for a word found in every article).
_SQLITE_SQL = """
WITH top AS (
    SELECT articles_fts.rowid AS id, bm25(articles_fts, 8.0, 1.0) AS r
    FROM articles_fts{join}
    WHERE articles_fts MATCH :q{filters}
    ORDER BY r
    LIMIT :limit
)
SELECT a.id, a.url, a.source, a.title, a.published_at, a.language,
       snippet(articles_fts, 1, :ms, :me, :ell, 24) AS snip, -top.r AS score, a.paywalled
FROM top CROSS JOIN articles_fts CROSS JOIN articles a
WHERE articles_fts MATCH :q AND articles_fts.rowid = top.id AND a.id = top.id
ORDER BY top.r
"""

# Ranked on the index columns alone; the text is read (and highlighted) for the top rows only.
_POSTGRES_SQL = """
SELECT a.id, a.url, a.source, a.title, a.published_at, a.language,
       ts_headline('english', a.text, h.tsq, :opts) AS snip, h.score, a.paywalled
FROM (
    SELECT a.id, tsq, ts_rank(a.search_vector, tsq) AS score
    FROM articles a, websearch_to_tsquery('english', :q) AS tsq
    WHERE a.search_vector @@ tsq{filters}
    ORDER BY score DESC, a.id
    LIMIT :limit
) AS h
JOIN articles a ON a.id = h.id
ORDER BY h.score DESC, h.id
"""


_SYNTAX_ERRORS = (
    "fts5:",
    "syntax error",
    "unterminated string",
    "no such column",
    "unknown special query",
)
_FTS_OPERATORS = re.compile(r'["()*:^]|\b(?:AND|OR|NOT|NEAR)\b')


def fts_query(query: str) -> str:
    """The FTS5 query for what the user typed.

    Plain words (no quotes, parentheses, ``*``, ``:``, ``^``, nor AND/OR/NOT/NEAR) are each
    quoted, so ``covid-19 U.K.`` finds what it says instead of failing on the punctuation; a
    query that uses FTS5 syntax is passed through as it is.
    """
    if _FTS_OPERATORS.search(query):
        return query
    return " ".join(f'"{word}"' for word in query.split())


_OPERATOR_WORDS = ("AND", "OR", "NOT")
_EDGES = "\"()^:*"


def _term(word: str) -> str | None:
    """One word as an FTS5 string (a prefix ``word*`` kept), None when it holds no letter or
    digit (a lone ``*``, ``(``, ``<``...)."""
    prefix = word.endswith("*")
    core = word.strip(_EDGES)
    if not any(c.isalnum() for c in core):
        return None
    quoted = '"' + core.replace('"', '""') + '"'
    return quoted + "*" if prefix else quoted


def literal_queries(query: str) -> list[str]:
    """FTS5 queries for what the user typed when it is not valid FTS5 syntax, to try in turn:
    each word quoted with AND / OR / NOT kept between words (``covid-19 OR flu``), then every
    word quoted, operators too. Empty when nothing in it can be searched for."""
    words = query.split()
    kept: list[str] = []
    for word in words:
        if word in _OPERATOR_WORDS:
            if kept and kept[-1] not in _OPERATOR_WORDS:
                kept.append(word)
            continue
        term = _term(word)
        if term is not None:
            kept.append(term)
    while kept and kept[-1] in _OPERATOR_WORDS:
        kept.pop()
    plain = [t for t in (_term(w) for w in words) if t is not None]
    out = [" ".join(kept), " ".join(plain)]
    return [q for n, q in enumerate(out) if q and q not in out[:n]]


def _shown(query: str) -> str:
    """The query as a message repeats it: at most 60 characters."""
    return repr(query if len(query) <= 60 else query[:59] + "…")


def _syntax_message(query: str, detail: str) -> str:
    return (
        f"cannot search for {_shown(query)}: {detail[:120]}. Words must all match; use "
        '"double quotes" for a phrase, OR / NOT between words, word* for a prefix'
    )


def search(engine: Engine, q: SearchQuery) -> list[SearchHit]:
    """Run a full-text search; best hits first, at most ``q.limit``.

    Raises :class:`QuerySyntaxError` for a query the database cannot parse (or an empty one),
    and :class:`~common.errors.StorageError` when the archive cannot be read (for example an
    archive whose schema predates full-text search and was opened read-only).
    """
    if not q.query.strip():
        raise QuerySyntaxError("empty query: give at least one word to search for")
    if not any(ch.isalnum() for ch in q.query):  # `*`, `(`: on every database alike
        raise QuerySyntaxError(f"nothing to search for in {_shown(q.query)}: give a word")
    dialect = engine.dialect.name
    params: dict[str, Any] = {"q": q.query, "limit": max(1, q.limit)}
    filters = _filters(q, params)
    if dialect == "sqlite":
        join = " JOIN articles a ON a.id = articles_fts.rowid" if filters else ""
        sql = _SQLITE_SQL.format(join=join, filters=filters)
        params["q"] = fts_query(q.query)
        params.update(ms=MARK_START, me=MARK_END, ell=_ELLIPSIS)
    elif dialect == "postgresql":
        sql = _POSTGRES_SQL.format(filters=filters)
        params["opts"] = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
            f'MaxFragments=2, FragmentDelimiter=" {_ELLIPSIS} "'
        )
    else:
        raise StorageError(f"full-text search is not available on {dialect}")
    # a query that is not valid FTS5 syntax is read as literal words (literal_queries)
    tries = [params["q"], *literal_queries(q.query)] if dialect == "sqlite" else [None]
    for n, attempt in enumerate(tries):
        if attempt is not None:
            params["q"] = attempt
        try:
            return _run(engine, sql, params)
        except QuerySyntaxError as exc:
            if n == len(tries) - 1 and n > 0:
                raise QuerySyntaxError(_syntax_message(q.query, str(exc))) from None
    raise QuerySyntaxError(f"nothing to search for in {_shown(q.query)}: give a word")


def _run(engine: Engine, sql: str, params: dict[str, Any]) -> list[SearchHit]:
    """The hits of one query; QuerySyntaxError (with the database's words) for bad syntax."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
    except OperationalError as exc:
        detail = str(exc.orig)
        if any(m in detail for m in _SYNTAX_ERRORS):
            raise QuerySyntaxError(detail) from None
        if "no such table: articles_fts" in detail:
            raise StorageError(
                "this archive has no search index yet; open it once for writing "
                "(any crawl) so its schema is upgraded"
            ) from exc
        raise StorageError(f"cannot search the archive: {detail}") from exc
    except DBAPIError as exc:
        raise StorageError(f"cannot search the archive: {exc.orig}") from exc
    return [
        SearchHit(
            id=r.id,
            url=r.url,
            source=r.source,
            title=r.title,
            published_at=r.published_at,
            language=r.language,
            snippet=r.snip or "",
            rank=float(r.score or 0.0),
            paywalled=bool(r.paywalled),
        )
        for r in rows
    ]
