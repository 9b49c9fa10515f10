"""Search latency on a generated archive of 100,000 articles: median and 99th percentile.

Generates articles (Zipf-distributed words, 250 per article, 5 sources, a year of dates, two
languages), inserts them through the storage layer in big transactions (the FTS index is filled
by the triggers of migration 0003, as in real use), then times a set of queries, each many
times, through :func:`storage.search.search`. As a baseline measured in the same run, it times a
plain ``LIKE '%word%'`` scan for the rare-word query (what search would cost without the index).

Usage::

    .venv/bin/python bench/search_latency.py                 # SQLite in a temp folder
    .venv/bin/python bench/search_latency.py --articles 20000 --repeat 20
    .venv/bin/python bench/search_latency.py --database postgresql+psycopg://root@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from storage.models import Article  # noqa: E402
from storage.records import content_columns  # noqa: E402
from storage.repository import Archive, ArticleRecord  # noqa: E402
from storage.search import SearchQuery, search  # noqa: E402

SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in ("a", "e", "i", "o", "u", "ar", "en", "ol")]
REAL = ["harbour", "council", "storm", "ferry", "election", "budget", "lifeboat", "festival"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    vocab = sorted(words)
    rng.shuffle(vocab)
    # real words at chosen frequency ranks: very common .. rare
    for rank, word in zip((3, 40, 300, 1500, 6000, 15000, 20, 900), REAL, strict=True):
        vocab[rank] = word
    return vocab


def articles(n: int, seed: int = 7) -> Iterator[ArticleRecord]:
    rng = random.Random(seed)
    vocab = vocabulary(rng, 20_000)
    weights = [1 / (r + 1) for r in range(len(vocab))]
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    start = date(2026, 1, 1)
    for i in range(n):
        words = rng.choices(vocab, cum_weights=cum, k=250)
        paras = [" ".join(words[j : j + 50]).capitalize() + "." for j in range(0, 250, 50)]
        title = " ".join(rng.choices(vocab, cum_weights=cum, k=7)).capitalize()
        yield ArticleRecord(
            source=f"source{i % 5}",
            url=f"https://bench.example/{i}",
            text="\n\n".join(paras),
            text_hash=f"{i:064x}",
            title=title,
            authors=("A. Writer",),
            published_at=(start + timedelta(days=i % 330)).isoformat(),
            language="de" if i % 10 == 0 else "en",
        )


QUERIES = [
    SearchQuery("harbour"),  # very common word
    SearchQuery("council"),  # common
    SearchQuery("storm"),  # mid-frequency
    SearchQuery("ferry"),  # uncommon
    SearchQuery("election"),  # rare
    SearchQuery("budget"),  # very rare
    SearchQuery("harbour council"),  # two words, both must match
    SearchQuery('"harbour council"'),  # phrase
    SearchQuery("lifeboat OR festival"),
    SearchQuery("harb*"),  # prefix
    SearchQuery("council", sources=("source2",)),
    SearchQuery("storm", since=date(2026, 6, 1), until=date(2026, 6, 30)),
    SearchQuery("ferry", language="de"),
]


def pg_query(q: SearchQuery) -> SearchQuery:
    """The same query in PostgreSQL's web-search syntax (no prefix search there)."""
    mapping = {"lifeboat OR festival": "lifeboat or festival", "harb*": "harbour"}
    return SearchQuery(
        mapping.get(q.query, q.query), q.sources, q.since, q.until, q.language, q.limit
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def bulk_insert(
    archive: Archive, records: Iterator[ArticleRecord], at: datetime, *, batch: int = 5000
) -> int:
    """Insert many generated articles (no raw bodies, no fetches, no dedupe), ``batch`` rows
    per transaction: a big archive to time searches on, in seconds."""
    n = 0
    chunk: list[dict[str, object]] = []

    def flush(rows: list[dict[str, object]]) -> None:
        archive.write(lambda s: s.execute(insert(Article), rows))

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30, help="runs of each query")
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: temp SQLite)")
    ap.add_argument("--reuse", action="store_true", help="time the articles already in --database")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    archive = Archive.open(url)
    have = archive.count_articles()
    if have and not args.reuse:
        sys.exit(f"{url} already holds articles; give an empty database or --reuse")
    if have:
        print(f"archive: {have} articles already there ({url.split(':')[0]})")
    else:
        t0 = time.perf_counter()
        n = bulk_insert(archive, articles(args.articles), datetime.now(UTC))
        load = time.perf_counter() - t0
        print(f"archive: {n} articles generated and indexed in {load:.1f} s ({url.split(':')[0]})")

    pg = archive.engine.dialect.name == "postgresql"
    samples: list[float] = []
    print(f"{'query':<44}{'hits':>6}{'median ms':>11}{'p99 ms':>9}")
    for q in QUERIES:
        q = pg_query(q) if pg else q
        search(archive.engine, q)  # warm the cache once
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            hits = search(archive.engine, q)
            times.append((time.perf_counter() - t) * 1000)
        samples += times
        label = q.query + (f" [{','.join(q.sources)}]" if q.sources else "")
        label += f" [{q.since}..{q.until}]" if q.since else ""
        label += f" [lang={q.language}]" if q.language else ""
        print(f"{label:<44}{len(hits):>6}{statistics.median(times):>11.2f}{pct(times, 99):>9.2f}")
    med, p99 = statistics.median(samples), pct(samples, 99)
    print(
        f"ALL {len(samples)} searches (limit 20, with snippets): median {med:.2f} ms, "
        f"p99 {p99:.2f} ms"
    )

    # baseline, same run: the same look-up without the index (a scan of every article's text)
    scan = []
    with archive.engine.connect() as conn:
        for _ in range(3):
            t = time.perf_counter()
            conn.execute(
                text("SELECT count(*) FROM articles WHERE text LIKE :w OR title LIKE :w"),
                {"w": "%budget%"},
            ).all()
            scan.append((time.perf_counter() - t) * 1000)
    base = statistics.median(scan)
    rare = statistics.median(samples[5 * args.repeat : 6 * args.repeat])
    print(
        f"baseline: a LIKE scan for 'budget' takes {base:.1f} ms; the indexed, ranked search "
        f"for it {rare:.2f} ms ({base / rare:.0f}x faster)"
    )
    archive.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
