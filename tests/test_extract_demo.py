"""The bundled demo site's article pages extract to exactly their expected texts.

Reads the HTML files directly (no server): ``__BASE__`` in the files is what the demo server
replaces with its own address. Skipped until the demo site is present in the tree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.errors import NotAnArticle
from pipeline.extract import extract_article

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "newsvault" / "demo_site"
MANIFEST = ROOT / "tests" / "data" / "demo_site.json"
EXPECTED = ROOT / "tests" / "data" / "expected"
BASE = "http://127.0.0.1:8000"

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="demo site not bundled yet")


def _manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}


def _page(path: str) -> str:
    rel = path.split("?", 1)[0].lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return (SITE / rel).read_text(encoding="utf-8").replace("__BASE__", BASE)


ARTICLES = sorted(_manifest().get("articles", {}).items())
NON_ARTICLES = sorted(_manifest().get("non_articles", []))


@pytest.mark.parametrize(("path", "meta"), ARTICLES, ids=[a for a, _ in ARTICLES])
def test_demo_article(path: str, meta: dict[str, Any]) -> None:
    art = extract_article(_page("/" + meta["file"]), BASE + path)
    assert art.text == (EXPECTED / meta["expected"]).read_text(encoding="utf-8").rstrip("\n")
    assert art.title == meta["title"]
    assert list(art.authors) == meta["authors"]
    assert (art.published_at or "")[:10] == meta["published"]
    assert (art.language or "").split("-")[0] == meta["language"]


@pytest.mark.parametrize("path", NON_ARTICLES)
def test_demo_non_article(path: str) -> None:
    with pytest.raises(NotAnArticle):
        extract_article(_page(path), BASE + path)
