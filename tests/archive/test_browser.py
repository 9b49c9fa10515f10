"""The web view end to end in a real headless browser (Debian's chromium through Playwright).

``newsvault serve`` runs in a child process over a crawled archive; the browser searches, opens
an article, its revisions and a diff, with JavaScript off (the pages need none) and on (to prove
that archived ``<script>`` text runs nothing). Screenshots of the main pages are written to
``$NEWSVAULT_SCREENSHOTS`` when set (docs/screenshots is made that way), else to a temp folder.
Skipped when chromium or Playwright is missing, unless CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.archive.helpers import (
    HOSTILE_PATH,
    Crawled,
    add_revisions,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI: apt-get install chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing("chromium is not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (PyPI) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def served(archive_copy: Crawled) -> Iterator[tuple[str, int]]:
    """``newsvault serve --port 0`` over the archive copy; yields (base URL, hostile article id)."""
    art_id = add_revisions(archive_copy.url, archive_copy.site.url(HOSTILE_PATH))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsvault",
            "serve",
            "--config",
            str(archive_copy.config),
            "--port",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, f"serve said {line!r}, stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield f"http://127.0.0.1:{m.group(1)}", art_id
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = os.environ.get("NEWSVAULT_SCREENSHOTS")
    path = Path(where) if where else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shot(page: Any, folder: Path, name: str) -> None:
    out = folder / f"{name}.png"
    page.screenshot(path=str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_read_revisions_and_diff_without_javascript(
    browser: Any, served: tuple[str, int], shots: Path
) -> None:
    base, art_id = served
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 760})
    page = ctx.new_page()
    try:
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "Search the archive"
        assert page.locator("text=Recent articles").count() == 1
        _shot(page, shots, "home")
        page.fill("input[name=q]", "harbour dredging")
        page.select_option("select[name=source]", "gazette")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/search\?q=harbour\+dredging"))
        first = page.locator(".hit h3 a").first
        assert first.inner_text() == "Harbour dredging to begin in January after years of delay"
        assert page.locator(".hit mark").count() >= 2
        _shot(page, shots, "search")
        first.click()
        page.wait_for_url(f"{base}/articles/{art_id}")
        assert "Margaret Quinn" in page.locator("dl.meta").inner_text()
        original = page.locator("dl.meta a[rel~=noopener]").first.get_attribute("href")
        assert original and original.endswith(HOSTILE_PATH)
        _shot(page, shots, "article")
        page.click("text=revisions and fetches")
        page.wait_for_url(f"{base}/articles/{art_id}/revisions")
        assert page.locator("table tr").count() >= 3
        _shot(page, shots, "revisions")
        page.click("text=diff")
        page.wait_for_url(f"{base}/articles/{art_id}/revisions/2")
        assert page.locator("#diff del").first.inner_text() == "spring"
        assert page.locator("#diff ins").first.inner_text() == "second week of January"
        _shot(page, shots, "diff")
        page.goto(base + "/runs")
        assert "gone-missing-story" in page.locator("body").inner_text()
        _shot(page, shots, "runs")
    finally:
        ctx.close()


def test_archived_script_text_is_shown_and_runs_nothing(
    browser: Any, served: tuple[str, int], archive_copy: Crawled
) -> None:
    base, art_id = served
    ctx = browser.new_context()
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{base}/articles/{art_id}")
        text = page.locator("article.text").inner_text()
        assert '<script>window.__pwned = 1; document.title = "pwned"</script>' in text
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("typeof window.__pwned_raw") == "undefined"
        assert page.title().startswith("Harbour dredging") and dialogs == []
        assert page.locator("article.text script").count() == 0
        # the raw HTML (which has a live inline script) only ever arrives as a download
        with page.expect_download() as info:
            page.click("text=raw HTML (download)")
        download = info.value
        assert download.suggested_filename == f"article-{art_id}.html.txt"
        assert "window.__pwned_raw" in Path(download.path()).read_text(encoding="utf-8")
        assert page.evaluate("typeof window.__pwned_raw") == "undefined"
        if archive_copy.is_sqlite:  # PostgreSQL's text parser skips the quoted <script>...</script>
            page.goto(f"{base}/search?q=pwned")
            assert "<script>" in page.locator(".snippet").first.inner_text()
            assert page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        ctx.close()
