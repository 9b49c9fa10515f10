"""Benchmark: what incremental archiving saves on second and later runs.

Generates a local news site of N articles (default 500; published over the last 120 days, with a
sitemap carrying each article's lastmod, an RSS feed of the newest 50 and a home page of the
newest 30), serves it on 127.0.0.1, and archives it three times with the real CLI and the
default re-check rules:

1. the first run (empty archive),
2. again with nothing changed,
3. again after 1% of the articles were edited (text changed, sitemap lastmod moved).

It prints the requests the server saw and the wall time of each run, as ratios to the first run,
and checks what was stored. Exit status 1 if the unchanged re-run made 5% or more of the first
run's requests, or if the archive does not hold what it should.

    .venv/bin/python bench/rerun_cost.py [--articles 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsvault.sitesrv import LocalSite  # noqa: E402

WORDS = (
    "council harbour ferry storm budget residents school market police fire road rail "
    "hospital plans funding week year said would could new local people town county board "
    "meeting report service workers families water coast weather winter summer business "
    "shops jobs housing homes rent prices costs tax rise fall number half more less first "
    "last morning evening night officials spokesperson chairman director manager minister"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 26))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words) - 1), str(rng.randint(2, 9000)))
    return " ".join(words) + "."


def _paragraphs(rng: random.Random) -> list[str]:
    return [
        " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
        for _ in range(rng.randint(5, 10))
    ]


def _page(title: str, published: datetime, paragraphs: list[str], slug: str) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    iso = published.isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - The Bench Times</title>
<link rel="canonical" href="__BASE__/{slug}/">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{iso}">
<meta name="author" content="Bench Reporter"></head>
<body><header><nav><a href="/">Home</a> <a href="/section/local/">Local</a></nav></header>
<main><article><h1>{title}</h1><p class="byline">By Bench Reporter, {iso[:10]}</p>
{body}
</article></main>
<aside class="related"><h2>Related</h2><ul><li><a href="/">More news</a></li></ul></aside>
<footer><p>Copyright The Bench Times</p></footer></body></html>
"""


class Site:
    """The generated site on disk; ``edit`` changes articles and moves their lastmod."""

    def __init__(self, root: Path, n: int, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        now = datetime.now(UTC)
        self.articles: list[dict[str, object]] = []
        for i in range(n):
            published = now - timedelta(minutes=self.rng.randint(10, 120 * 24 * 60))
            title = " ".join(self.rng.choice(WORDS) for _ in range(6)).capitalize() + f" {i}"
            slug = f"{published:%Y/%m}/story-{i}-" + "-".join(title.lower().split()[:3])
            self.articles.append(
                {
                    "slug": slug,
                    "title": title,
                    "published": published,
                    "lastmod": published,
                    "paragraphs": _paragraphs(self.rng),
                }
            )
        self.articles.sort(key=lambda a: a["published"], reverse=True)  # type: ignore[arg-type,return-value]
        for art in self.articles:
            self._write_article(art)
        self._write_listings()

    def _write_article(self, art: dict[str, object]) -> None:
        path = self.root / str(art["slug"]) / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        html = _page(str(art["title"]), art["published"], art["paragraphs"], str(art["slug"]))  # type: ignore[arg-type]
        path.write_text(html, encoding="utf-8")

    def _write_listings(self) -> None:
        urls = "\n".join(
            f"<url><loc>__BASE__/{a['slug']}/</loc>"
            f"<lastmod>{a['lastmod'].isoformat(timespec='seconds')}</lastmod></url>"  # type: ignore[attr-defined]
            for a in self.articles
        )
        (self.root / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n'
        )
        items = "\n".join(
            f"<item><title>{a['title']}</title><link>__BASE__/{a['slug']}/</link></item>"
            for a in self.articles[:50]
        )
        (self.root / "feed.xml").write_text(
            '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>The Bench Times</title>'
            f"\n{items}\n</channel></rss>\n"
        )
        links = "\n".join(
            f'<li><a href="/{a["slug"]}/">{a["title"]}</a></li>' for a in self.articles[:30]
        )
        (self.root / "index.html").write_text(
            f"<!doctype html><html><body><h1>The Bench Times</h1><ul>{links}</ul></body></html>"
        )

    def edit(self, fraction: float) -> list[str]:
        """Change one sentence of ``fraction`` of the articles; their lastmod moves to now."""
        chosen = self.rng.sample(self.articles, max(1, round(len(self.articles) * fraction)))
        for art in chosen:
            paras = list(art["paragraphs"])  # type: ignore[call-overload]
            paras[0] = paras[0] + " A correction was added to this story today."
            art["paragraphs"] = paras
            art["lastmod"] = datetime.now(UTC)
            self._write_article(art)
        self._write_listings()
        return [str(a["slug"]) for a in chosen]


def _crawl(config: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "newsvault", "crawl", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nv-bench-") as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        site_files = Site(root, args.articles, args.seed)
        db = Path(tmp) / "bench.db"
        with LocalSite(root) as site:
            config = Path(tmp) / "config.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "database": f"sqlite:///{db}",
                        "crawl": {
                            "allow_private_networks": True,
                            "download_delay": 0,
                            "concurrency_per_domain": 16,
                        },
                        "sources": [
                            {
                                "name": "bench",
                                "feeds": [site.url("/feed.xml")],
                                "sitemaps": [site.url("/sitemap.xml")],
                                "start_urls": [site.url("/")],
                            }
                        ],
                    }
                )
            )
            results = []
            for label in ("first run", "unchanged", "1% edited"):
                if label == "1% edited":
                    edited = site_files.edit(0.01)
                before = len(site.requests)
                seconds = _crawl(config)
                results.append((label, len(site.requests) - before, seconds))
        with sqlite3.connect(db) as con:
            articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            revisions = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
            runs = con.execute(
                "SELECT articles_new, articles_updated, articles_unchanged FROM runs ORDER BY id"
            ).fetchall()
    base_requests, base_seconds = results[0][1], results[0][2]
    print(f"incremental benchmark: {args.articles} articles, default re-check rules")
    head = f"{'run':<12}{'requests':>10}{'ratio':>8}{'seconds':>10}{'ratio':>8}"
    print(head + "   new/updated/unchanged")
    for (label, requests, seconds), counts in zip(results, runs, strict=True):
        print(
            f"{label:<12}{requests:>10}{requests / base_requests:>8.3f}"
            f"{seconds:>10.2f}{seconds / base_seconds:>8.3f}   {'/'.join(map(str, counts))}"
        )
    print(f"archive: {articles} articles, {revisions} revisions ({len(edited)} edited)")
    ok = True
    if results[1][1] >= 0.05 * base_requests:
        print("FAIL: the unchanged re-run made 5% or more of the first run's requests")
        ok = False
    if articles != args.articles or revisions != args.articles + len(edited):
        print("FAIL: the archive should hold every article once and one revision per edit")
        ok = False
    if runs[2][1] != len(edited):
        print(f"FAIL: the edited run updated {runs[2][1]} articles, not {len(edited)}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
