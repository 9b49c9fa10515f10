"""The benchmark's site generator: deterministic, realistic sizes, bounded urlsets, a feed."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from sitegen import URLSET_SIZE, generate_site, set_base_url  # noqa: E402


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_the_same_seed_gives_the_same_site_and_another_seed_another(tmp_path: Path) -> None:
    a = generate_site(tmp_path / "a", 12, seed=3)
    b = generate_site(tmp_path / "b", 12, seed=3)
    c = generate_site(tmp_path / "c", 12, seed=4)
    assert digest(a.root) == digest(b.root) != digest(c.root)


def test_pages_are_realistic_and_listed_in_bounded_sitemaps_and_a_feed(tmp_path: Path) -> None:
    n = URLSET_SIZE + 5
    info = generate_site(tmp_path / "site", n, seed=1)
    set_base_url(info.root, "http://127.0.0.1:8000")
    sizes = [(info.root / p.lstrip("/")).stat().st_size for p in info.paths[:300]]
    assert 30_000 <= min(sizes) and max(sizes) <= 80_000
    page = (info.root / info.paths[0].lstrip("/")).read_text(encoding="utf-8")
    for boilerplate in ("main-navigation", "comment-form", "related", "share-buttons", "sidebar"):
        assert boilerplate in page
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.parse(str(info.root / "sitemap_index.xml"))
    sets = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert len(sets) == 2
    listed: list[str] = []
    for url in sets:
        doc = etree.parse(str(info.root / url.rsplit("/", 1)[1]))
        locs = doc.xpath("//s:url/s:loc/text()", namespaces=ns)
        assert len(locs) <= URLSET_SIZE
        listed += locs
    assert listed == ["http://127.0.0.1:8000" + p for p in info.paths]
    feed = etree.parse(str(info.root / "feed.xml"))
    assert len(feed.xpath("//item")) == 50
    assert len(set(info.paths)) == n
