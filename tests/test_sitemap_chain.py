"""A sitemap index is read one sitemap after another; a broken link does not end the chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_crawl import expected_urls, stored

pytestmark = pytest.mark.slow


def test_every_sitemap_of_an_index_is_read_even_after_a_missing_or_broken_one(
    make_site, manifest: dict[str, Any], write_config, cli, database_url: str  # type: ignore[no-untyped-def]
) -> None:
    def break_two_links(root: Path) -> None:
        index = root / "sitemap_index.xml"
        text = index.read_text(encoding="utf-8")
        extra = (
            "<sitemap><loc>__BASE__/sitemap-gone.xml</loc></sitemap>"
            "<sitemap><loc>__BASE__/sitemap-broken.xml</loc></sitemap>"
            "<sitemap><loc>__BASE__/sitemap-posts.xml</loc></sitemap>"  # listed twice
        )
        index.write_text(text.replace("<sitemap>", extra + "<sitemap>", 1), encoding="utf-8")
        (root / "sitemap-broken.xml").write_text("<urlset><url><loc>", encoding="utf-8")

    site = make_site(break_two_links)
    config = write_config([{"name": "gazette", "sitemaps": [site.url("/sitemap_index.xml")]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    listed = ("sitemap-posts", "sitemap-news", "sitemap-archive")
    assert set(stored(database_url)) == expected_urls(site, manifest, *listed)
    asked = [p for p in site.requests if p.startswith("/sitemap")]
    assert asked.count("/sitemap-posts.xml") == 1
    assert {"/sitemap-gone.xml", "/sitemap-broken.xml", "/sitemap-archive.xml.gz"} <= set(asked)
