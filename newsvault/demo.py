"""``newsvault demo``: archive the bundled sample news site, offline."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common.config import Config, parse_config
from common.errors import StorageError
from newsvault.sitesrv import LocalSite

__all__ = ["DEMO_SITE", "demo_config", "next_steps", "run_demo"]

DEMO_SITE = Path(__file__).parent / "demo_site"


def demo_config(base: str, db_path: Path) -> Config:
    """The configuration the demo crawls with: every kind of entry point of the sample site."""
    return parse_config(
        {
            "database": f"sqlite:///{db_path.resolve()}",
            "crawl": {
                "allow_private_networks": True,
                "download_delay": 0,
                "concurrency_per_domain": 8,
            },
            "sources": [
                {
                    "name": "harbour-gazette",
                    "feeds": [f"{base}/feed.xml", f"{base}/atom.xml", f"{base}/rss1.rdf"],
                    "sitemaps": [f"{base}/sitemap_index.xml"],
                    "start_urls": [f"{base}/"],
                }
            ],
        }
    )


def run_demo(db_path: Path, print_summary: Callable[[Sequence[Any]], None]) -> int:
    from newsvault.crawl import run_crawl
    from storage.repository import Archive

    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    with LocalSite(DEMO_SITE) as site:
        print(f"Serving the sample news site at {site.base}; archiving into {db_path}")
        base = site.base
        config = demo_config(base, db_path)
        try:
            results = run_crawl(config, config.sources, progress_interval=1.0)
        except StorageError as exc:
            print(f"newsvault: {exc}")
            return 3
    print_summary(results)
    archive = Archive.open(config.database)
    try:
        articles = list(archive.iter_articles())
    finally:
        archive.close()
    if not articles:
        print("No article was archived.")
        return 1
    shown = next((a for a in articles if "/2026/" in a["url"]), articles[0])
    print(f"\n{len(articles)} articles archived. One of them, as stored:\n")
    print(f"URL:       {shown['url']}")
    print(f"Title:     {shown['title']}")
    print(f"Authors:   {', '.join(shown['authors']) or '-'}")
    print(f"Published: {shown['published_at'] or '-'}")
    print(f"Language:  {shown['language'] or '-'}\n")
    for para in shown["text"].split("\n\n"):
        print(textwrap.fill(para, width=88))
        print()
    cfg_path = db_path.with_suffix(".yaml")
    cfg_path.write_text(
        "# Written by `newsvault demo`: the archive it made, for other commands.\n"
        f"database: sqlite:///{db_path.resolve()}\n"
        "sources:\n  - name: harbour-gazette\n"
        f"    start_urls: [{base}/]\n",
        encoding="utf-8",
    )
    print(next_steps(cfg_path.resolve(), shown["id"]))
    return 0


def next_steps(config_path: Path, article_id: int) -> str:
    """What to run after the demo: explore its archive, then start one's own."""
    return (
        "Next steps: explore the demo archive\n"
        f"  export NEWSVAULT_CONFIG={config_path}\n"
        "  newsvault search harbour        # full-text search, best matches first\n"
        f"  newsvault show {article_id:<17}# one article; `history {article_id}`: its revisions\n"
        "  newsvault serve                 # browse and search at http://127.0.0.1:8080\n"
        "then archive your own sites:\n"
        "  newsvault init my-archive && cd my-archive\n"
        "  newsvault sources add https://www.example.com"
    )
