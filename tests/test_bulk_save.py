"""The batch fast path (storage/bulk.py) stores exactly what saving one by one stores.

Random batches mixing plainly new articles with every case the fast path must leave alone (a
URL already stored or aliased, the same text, a near-duplicate, a changed article, a canonical
URL another page declares, a tracking variant, a URL put off by a 429) are saved once with
``save_articles`` and once article by article into a second archive; outcomes and the whole
archive (articles, revisions, aliases, fetches, bodies, back-off) must be equal. On SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.fingerprint import simhash, text_fingerprint
from storage.bulk import save_plain_new
from storage.models import Alias, Article, Backoff, Body, Fetch, Revision
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome
from tests.services import pg_schema

DATA = Path(__file__).parent / "data" / "expected"
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.txt"))]
STORY = (DATA / "news_council-budget.html.txt").read_text(encoding="utf-8")
NEAR = STORY.replace("4.9 per cent", "5.2 per cent").replace("Council", "council")
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def record(url: str, text: str, title: str, source: str = "gazette") -> ArticleRecord:
    return ArticleRecord(
        source=source,
        url=url,
        text=text,
        text_hash=text_fingerprint(text),
        title=title,
        authors=("A. Writer",),
        tags=("news",),
        simhash=simhash(text),
    )


def fetch(url: str, at: datetime, body: bytes, lastmod: str | None = None) -> FetchRecord:
    headers = {"ETag": f'"{hash(body) & 0xFFFF:x}"', "Content-Type": "text/html"}
    return FetchRecord(
        url=url, fetched_at=at, status=200, body=body, headers=headers, lastmod=lastmod
    )


def random_items(
    rng: random.Random, n: int, at: datetime
) -> list[tuple[ArticleRecord, FetchRecord]]:
    """Articles drawn from small pools of URLs, texts and titles, so that collisions happen."""
    items = []
    pool_texts = [*TEXTS, NEAR]
    for _ in range(n):
        k = rng.randrange(40)
        url = f"http://gazette.test/news/{k}"
        fetched = url
        roll = rng.random()
        if roll < 0.15:
            fetched = url + "?utm_source=feed"  # a tracking variant: an alias of the article
        elif roll < 0.25:
            fetched = f"http://gazette.test/other/{rng.randrange(40)}"  # declares url canonical
        own = random.Random(k)  # URL k's own text, the same on every fetch
        vocab = ["rain", "council", "ferry", "harbour", "budget", "school", "fire"]
        own_text = f"Story {k}. " + " ".join(
            own.choice(vocab) for _ in range(own.randrange(10, 90))
        )
        text = rng.choice(pool_texts) if rng.random() < 0.3 else own_text
        title = f"Title {k}" if rng.random() < 0.8 else f"Retitled {k}"
        body = f"<html><body>{k} {rng.random()}</body></html>".encode()
        lastmod = rng.choice([None, "2026-11-01", "2026-11-20T08:00:00Z"])
        items.append((record(url, text, title), fetch(fetched, at, body, lastmod)))
    return items


def dump(archive: Archive) -> dict[str, Any]:
    """The archive's content, without row ids (which depend on insertion order)."""
    with Session(archive.engine) as s:
        urls = dict(s.execute(select(Article.id, Article.url)).all())
        arts = {
            a.url: (
                a.source,
                a.title,
                a.text_hash,
                list(a.authors),
                list(a.tags),
                a.simhash,
                a.sim_b0,
                a.sim_b3,
                a.body_sha256,
                a.revision_count,
                a.etag,
                a.listed_lastmod,
                a.first_fetched_at,
                a.last_fetched_at,
                a.last_changed_at,
            )
            for a in s.scalars(select(Article))
        }
        revs = sorted(
            (urls[r.article_id], r.number, r.text_hash, r.title, r.body_sha256, list(r.authors))
            for r in s.scalars(select(Revision))
        )
        aliases = sorted((a.url, urls[a.article_id], a.reason) for a in s.scalars(select(Alias)))
        fetches = sorted(
            (f.url, urls.get(f.article_id or -1), f.status, f.body_sha256, sorted(f.headers))
            for f in s.scalars(select(Fetch))
        )
        bodies = sorted(s.scalars(select(Body.sha256)))
        backoff = sorted(s.scalars(select(Backoff.url)))
    return {
        "articles": arts,
        "revisions": revs,
        "aliases": aliases,
        "fetches": fetches,
        "bodies": bodies,
        "backoff": backoff,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def two_archives(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Archive, Archive]]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            urls = [f"sqlite:///{tmp_path / n}.db" for n in ("batch", "single")]
        else:
            urls = [stack.enter_context(pg_schema()) for _ in range(2)]
        archives = [Archive.open(u) for u in urls]
        yield archives[0], archives[1]
        for a in archives:
            a.close()


@pytest.mark.parametrize("seed", range(6))
def test_batch_saves_exactly_what_one_by_one_saves(
    two_archives: tuple[Archive, Archive], seed: int
) -> None:
    batched, single = two_archives
    rng = random.Random(seed)
    for archive in (batched, single):
        archive.record_failure(
            None, "gazette", "http://gazette.test/news/3", "http", "429", 429, retry_after=60
        )
    at = T0
    seen: list[Outcome] = []
    for round_no in range(4):
        items = random_items(rng, 30, at)
        run_b = batched.start_run("gazette")
        run_s = single.start_run("gazette")
        got = batched.save_articles(run_b, items)
        want = [single.save_article(run_s, rec, f) for rec, f in items]
        assert got == want, f"round {round_no}"
        seen += want
        at += timedelta(hours=1)
    assert dump(batched) == dump(single)
    assert {Outcome.NEW, Outcome.DUPLICATE, Outcome.UPDATED, Outcome.UNCHANGED} <= set(seen)


def test_fast_path_takes_the_plain_articles_and_leaves_the_rest(database_url: str) -> None:
    archive = Archive.open(database_url)
    stored = record("http://gazette.test/news/old", TEXTS[0], "Old")
    archive.save_article(None, stored, fetch(stored.url, T0, b"old"))
    items = [
        (
            record(f"http://gazette.test/news/{i}", f"Story {i} " * 50, f"T{i}"),
            fetch(f"http://gazette.test/news/{i}", T0, f"body {i}".encode()),
        )
        for i in range(5)
    ]
    items += [
        (
            record("http://gazette.test/news/old", TEXTS[1], "Old"),  # a stored URL
            fetch("http://gazette.test/news/old", T0, b"new body"),
        ),
        (
            record("http://gazette.test/news/copy", TEXTS[0], "Copy"),  # stored text
            fetch("http://gazette.test/news/copy", T0, b"copy"),
        ),
        (
            record("http://gazette.test/news/again", "Story 2 " * 50, "Again"),  # text of item 2
            fetch("http://gazette.test/news/again", T0, b"again"),
        ),
        (
            record("http://gazette.test/news/s", STORY, "Story"),
            fetch("http://gazette.test/news/s", T0, b"story"),
        ),
        (
            record("http://gazette.test/news/n", NEAR, "Near"),  # near-duplicate of the last one
            fetch("http://gazette.test/news/n", T0, b"near"),
        ),
    ]
    with Session(archive.engine) as s:
        assert save_plain_new(s, None, items, 3) == {0, 1, 2, 3, 4, 8}
        s.rollback()
        # without the near-duplicate check, the same text is still caught by its hash
        assert save_plain_new(s, None, items, None) == {0, 1, 2, 3, 4, 8, 9}
        s.rollback()
    archive.close()
