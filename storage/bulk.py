"""The fast path of a batch save: articles that are plainly new, written with a few statements.

In a first crawl nearly every article is new: its URL is unknown, no article of its source has
the same or a nearly equal text, and nothing else in the batch touches it. Such an article needs
no decision, only its rows (body, article, revision 1, its fetched URL as an alias when that
differs, fetch). :func:`save_plain_new` finds those in a handful of queries for the whole batch
(URLs, text hashes, simhash bands, each one ``IN`` lookup) and writes them with one multi-row
``INSERT`` per table. Every other article of the batch is left to the caller's one-by-one path,
which stays the reference for what a save means.

The check is conservative, so that writing the plain ones first (before the others of the batch)
gives the same archive as writing all in order: an article is plain only when none of its URLs,
its text hash or its simhash neighbourhood is shared with the archive or with any earlier article
of the batch; it then cannot affect, or be affected by, any other article's save.

Runs inside the caller's transaction (SQLite and PostgreSQL; other databases take the one-by-one
path for everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from common.dates import is_later
from common.fingerprint import hamming, simhash_bands
from common.urls import canonical_url
from storage.bodies import PackedBody, pack_body
from storage.incremental import REVISION_COPIES
from storage.models import Alias, Article, Backoff, Body, Fetch, Revision
from storage.records import (
    ArticleRecord,
    FetchRecord,
    content_columns,
    fetch_columns,
    header_value,
)

__all__ = ["save_plain_new"]

_IN_CHUNK = 500  # values per IN (...) list, well under every SQLite's variable limit
_BANDS = (Article.sim_b0, Article.sim_b1, Article.sim_b2, Article.sim_b3)


def _table(model: Any) -> Table:
    """The Core table of a mapped class (multi-row inserts skip the ORM's unit of work)."""
    return Article.metadata.tables[model.__tablename__]


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _known_urls(s: Session, urls: set[str]) -> set[str]:
    known: set[str] = set()
    for part in _chunks(urls):
        known.update(s.scalars(select(Article.url).where(Article.url.in_(part))))
        known.update(s.scalars(select(Alias.url).where(Alias.url.in_(part))))
    return known


def _known_hashes(s: Session, source: str, hashes: set[str]) -> set[str]:
    known: set[str] = set()
    for part in _chunks(hashes):
        q = select(Article.text_hash).where(Article.source == source, Article.text_hash.in_(part))
        known.update(s.scalars(q))
    return known


def _band_neighbours(s: Session, source: str, sims: list[int]) -> dict[tuple[int, int], list[int]]:
    """(band number, band value) -> simhashes of the source's articles with that band value,
    for the bands of ``sims``: the only articles within the band index's reach of them."""
    wanted: list[set[int]] = [set(), set(), set(), set()]
    for value in sims:
        for b, band in enumerate(simhash_bands(value)):
            wanted[b].add(band)
    out: dict[tuple[int, int], list[int]] = {}
    for b, col in enumerate(_BANDS):
        for part in _chunks(wanted[b]):
            q = select(col, Article.simhash).where(Article.source == source, col.in_(part))
            for value_b, other in s.execute(q):
                if value_b is not None and other is not None:
                    out.setdefault((b, value_b), []).append(other)
    return out


def _plain(
    s: Session,
    items: Sequence[tuple[ArticleRecord, FetchRecord]],
    fetched_keys: Sequence[str],
    distance: int | None,
) -> list[int]:
    """Indices of the items that are plainly new (see the module's docstring);
    ``fetched_keys``: the canonical form of each item's fetched URL."""
    known_urls = _known_urls(s, {rec.url for rec, _ in items} | set(fetched_keys))
    by_source: dict[str, list[ArticleRecord]] = {}
    for rec, _ in items:
        by_source.setdefault(rec.source, []).append(rec)
    known_hashes: dict[str, set[str]] = {}
    near: dict[str, dict[tuple[int, int], list[int]]] = {}
    for source, recs in by_source.items():
        known_hashes[source] = _known_hashes(s, source, {r.text_hash for r in recs})
        sims = [r.simhash for r in recs if r.simhash is not None]
        near[source] = _band_neighbours(s, source, sims) if sims and distance is not None else {}
    plain: list[int] = []
    seen_urls: set[str] = set()
    for i, (rec, _) in enumerate(items):
        mine = {rec.url, fetched_keys[i]}
        hashes = known_hashes[rec.source]
        table = near[rec.source]
        ok = not (mine & known_urls or mine & seen_urls) and rec.text_hash not in hashes
        if ok and distance is not None and rec.simhash is not None:
            ok = not any(
                hamming(rec.simhash, other) <= distance
                for key in enumerate(simhash_bands(rec.simhash))
                for other in table.get(key, ())
            )
        if ok:
            plain.append(i)
        # later items of the batch are compared with this one too, plain or not
        seen_urls |= mine
        hashes.add(rec.text_hash)
        if distance is not None and rec.simhash is not None:
            for key in enumerate(simhash_bands(rec.simhash)):
                table.setdefault(key, []).append(rec.simhash)
    return plain


def save_plain_new(
    s: Session,
    run_id: int | None,
    items: Sequence[tuple[ArticleRecord, FetchRecord]],
    distance: int | None,
) -> set[int]:
    """Write the plainly new articles of ``items``; return their indices (each one's outcome
    is NEW). The caller saves the others one by one, after these, in the same transaction."""
    dialect = s.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql") or not items:
        return set()
    fetched_keys = [canonical_url(fetch.url) for _, fetch in items]
    # a rendered page (two bodies) is saved one by one, after these
    plain = [i for i in _plain(s, items, fetched_keys, distance) if items[i][1].rendered is None]
    if not plain:
        return set()
    bodies: dict[str, dict[str, Any]] = {}
    digests: list[str] = []
    for i in plain:
        body = items[i][1].body
        digest, zdata = body.packed() if isinstance(body, PackedBody) else pack_body(body)
        bodies.setdefault(digest, {"sha256": digest, "size": len(body), "zdata": zdata})
        digests.append(digest)
    ins = sqlite.insert if dialect == "sqlite" else postgresql.insert
    s.execute(ins(Body).on_conflict_do_nothing(), list(bodies.values()))
    rows = []
    for i, digest in zip(plain, digests, strict=True):
        rec, fetch = items[i]
        bands: tuple[int | None, ...] = (
            simhash_bands(rec.simhash) if rec.simhash is not None else (None,) * 4
        )
        rows.append(
            {
                "source": rec.source,
                "url": rec.url,
                **content_columns(rec),
                "first_fetched_at": fetch.fetched_at,
                "last_fetched_at": fetch.fetched_at,
                "last_changed_at": fetch.fetched_at,
                "body_sha256": digest,
                "revision_count": 1,
                "simhash": rec.simhash,
                "sim_b0": bands[0],
                "sim_b1": bands[1],
                "sim_b2": bands[2],
                "sim_b3": bands[3],
                "etag": header_value(fetch.headers, "etag"),
                "last_modified": header_value(fetch.headers, "last-modified"),
                "listed_lastmod": fetch.lastmod if is_later(fetch.lastmod, None) else None,
            }
        )
    table = _table(Article)
    ids = list(
        s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
    )
    revisions, aliases, fetches = [], [], []
    for i, art_id, row in zip(plain, ids, rows, strict=True):
        rec, fetch = items[i]
        revisions.append(
            {
                "article_id": art_id,
                "number": 1,
                "seen_at": fetch.fetched_at,
                "run_id": run_id,
                **{name: row[name] for name in REVISION_COPIES},
            }
        )
        if fetched_keys[i] != rec.url:
            aliases.append(
                {
                    "url": fetched_keys[i],
                    "article_id": art_id,
                    "reason": "canonical",
                    "first_seen_at": fetch.fetched_at,
                }
            )
        fetches.append(fetch_columns(fetch, run_id, art_id, row["body_sha256"]))
    s.execute(insert(_table(Revision)), revisions)
    if aliases:
        s.execute(insert(_table(Alias)), aliases)
    s.execute(insert(_table(Fetch)), fetches)
    stored = {u for i in plain for u in (items[i][1].url, items[i][0].url)}
    for part in _chunks(stored):
        s.execute(delete(Backoff).where(Backoff.url.in_(part)))
    return set(plain)
