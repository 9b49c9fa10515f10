"""A source's site gets at most ``concurrency_per_domain`` connections, each kept alive.

Scrapy 2.19 (asyncio) let up to CONCURRENT_REQUESTS requests run at once against one host; the
surplus connections were closed and reopened all through the crawl (about one new connection,
so one TCP and on a real site one TLS handshake, for every second page).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsvault.sitesrv import LocalSite
from tests.services import rows

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from sitegen import generate_site, set_base_url  # noqa: E402


def test_a_crawl_reuses_its_connections(
    tmp_path: Path, database_url: str, write_config: Callable[..., Path], cli: Any
) -> None:
    articles, concurrency = 150, 4
    info = generate_site(tmp_path / "site", articles, seed=5)
    with LocalSite(info.root) as site:
        set_base_url(info.root, site.base)
        cfg = write_config(
            [{"name": "gen", "sitemaps": [site.url("/sitemap_index.xml")]}],
            concurrency_per_domain=concurrency,
        )
        done = cli("crawl", "--config", str(cfg), timeout=300)
        assert done.returncode == 0, done.stderr
        assert rows(database_url, "SELECT count(*) FROM articles") == [(articles,)]
        assert len(site.requests) > articles
        assert len(site.clients) <= concurrency, len(site.clients)  # it was 103 here
