"""The per-run page cap (``crawl.max_pages_per_run``) takes the newest articles and says so.

A site lists more articles than the cap allows: the run fetches the newest (by the sitemap's
lastmod, else by place in the listing), and the crawl summary, ``runs`` and ``status`` say the
cap was reached and how many article URLs wait for the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.sitegen import SiteInfo, generate_site, set_base_url
from crawler.feeds import FeedEntry
from crawler.spiders.news import newest_first
from newsvault.sitesrv import LocalSite
from tests.services import rows

pytestmark = pytest.mark.slow

ARTICLES, CAP = 60, 40


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[LocalSite, SiteInfo]]:
    info = generate_site(tmp_path / "site", ARTICLES)  # one urlset, oldest first, with lastmod
    with LocalSite(info.root) as s:
        set_base_url(info.root, s.url("").rstrip("/"))
        yield s, info


def _config(tmp_path: Path, database: str, url: str) -> Path:
    path = tmp_path / "config.yaml"
    data = {
        "database": database,
        "crawl": {"allow_private_networks": True, "download_delay": 0, "max_pages_per_run": CAP},
        "sources": [{"name": "big", "sitemaps": [url]}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_capped_run_takes_the_newest_and_says_how_many_wait(
    site: tuple[LocalSite, SiteInfo], tmp_path: Path, database_url: str, cli: Any
) -> None:
    srv, info = site
    config = _config(tmp_path, database_url, srv.url("/sitemap_index.xml"))
    proc = cli("crawl", "--config", str(config), timeout=300)
    assert proc.returncode == 0, proc.stderr
    wait = ARTICLES - CAP
    assert f"page cap reached (crawl.max_pages_per_run): {wait} article URLs wait" in proc.stderr
    fetched = {u for (u,) in rows(database_url, "SELECT url FROM fetches")}
    [run] = rows(database_url, "SELECT urls_over_cap, message FROM runs")
    newest = {srv.url(p) for p in info.paths[-CAP:]}  # the site's articles, oldest first
    articles = {u for u in fetched if u.endswith(".html")}
    assert articles == newest, f"left out {sorted(newest - articles)[:3]}..."
    assert run[0] == wait and "page cap reached" in run[1]
    runs = cli("runs", "--config", str(config))
    assert "over cap" in runs.stdout and "page cap reached" in runs.stdout
    status = cli("status", "--config", str(config))
    assert f"page cap reached: {wait} URLs wait" in " ".join(status.stdout.split())


def test_newest_first_orders_by_date_then_by_place() -> None:
    entries = [
        FeedEntry("/a", "2026-01-01"),
        FeedEntry("/b", None),
        FeedEntry("/c", "2026-03-01"),
        FeedEntry("/d", "2026-01-01"),
        FeedEntry("/e", None),
    ]
    sitemap = [e.url for e in newest_first(entries, listed_oldest_first=True)]
    assert sitemap == ["/c", "/d", "/a", "/e", "/b"]
    feed = [e.url for e in newest_first(entries, listed_oldest_first=False)]
    assert feed == ["/c", "/a", "/d", "/b", "/e"]
