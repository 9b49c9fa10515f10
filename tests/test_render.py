"""Script-built pages rendered in headless Chromium (``render: auto``), paywalled pages, Markdown:
end to end against a local site (tests/data/render_site/) with plain, script-built and paywalled
article pages.

Skipped when Debian's chromium or Playwright is missing, unless CI=true.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from crawler.middlewares import SafetyMiddleware
from newsvault.sitesrv import LocalSite
from pipeline.render import Renderer, url_guard
from tests.conftest import DATA
from tests.services import rows

pytestmark = pytest.mark.slow

SITE = DATA / "render_site"
CHROMIUM = "/usr/bin/chromium"
SCRIPT_BUILT = {"/news/night-trains.html", "/news/river-survey.html"}
PAYWALLED = {"/news/budget-deal.html", "/news/school-meals.html"}
PLAIN = {"/news/harbour-plan.html"}
# what only a browser asks for: the scripts' data and script files
BROWSER_ONLY = {"/api/night-trains.json", "/api/river-survey.json", "/js/story.js"}


def _need_browser() -> None:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = "chromium is not installed (Debian package chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing = "playwright (PyPI) is not installed"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (required in CI)")
        pytest.skip(missing)


@pytest.fixture
def render_site() -> Any:
    with LocalSite(SITE) as s:
        yield s


def _articles(db: str, site: LocalSite) -> dict[str, dict[str, Any]]:
    found = rows(
        db,
        "SELECT a.url, a.text, a.markdown, a.paywalled, f.rendered_sha256, f.body_sha256 "
        "FROM articles a JOIN fetches f ON f.article_id = a.id",
    )
    return {
        r[0].removeprefix(site.base): {
            "text": r[1],
            "markdown": r[2],
            "paywalled": bool(r[3]),
            "rendered": r[4],
            "body": r[5],
        }
        for r in found
    }


def test_render_auto_renders_only_script_built_pages(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    _need_browser()
    config = write_config(
        [{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")], "render": "auto"}]
    )
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    arts = _articles(database_url, render_site)
    # every article archived with its full text
    assert set(arts) == SCRIPT_BUILT | PAYWALLED | PLAIN
    assert "otters at nine places" in arts["/news/river-survey.html"]["text"]
    assert "single dry summer" in arts["/news/river-survey.html"]["text"]
    assert "sleeping cars" in arts["/news/night-trains.html"]["text"]
    assert "Loading" not in arts["/news/night-trains.html"]["text"]
    # only the script-built pages were rendered, and both bodies are kept
    rendered = {path for path, a in arts.items() if a["rendered"]}
    assert rendered == SCRIPT_BUILT
    for path in SCRIPT_BUILT:
        assert arts[path]["rendered"] != arts[path]["body"]
    raw = dict(rows(database_url, "SELECT sha256, size FROM bodies"))
    assert all(arts[p]["body"] in raw and arts[p]["rendered"] in raw for p in SCRIPT_BUILT)
    # the browser's requests: each script's data once, nothing for the plain or paywalled pages,
    # no image, and each page's document once (by the crawler: the browser was handed its bytes)
    browser = [p for p in render_site.requests if p in BROWSER_ONLY]
    assert sorted(browser) == sorted(BROWSER_ONLY)
    assert not [p for p in render_site.requests if p.startswith("/img/")]
    for path in SCRIPT_BUILT | PAYWALLED | PLAIN:
        assert render_site.requests.count(path) == 1, path
    # the guard refused the script's request outside the source
    assert "refused http://127.0.0.2:9/collect" in proc.stderr
    # paywalled pages: flagged, teaser only, never the subscribe box or the locked part
    for path in PAYWALLED:
        assert arts[path]["paywalled"], path
        assert "SECRET-FULL-TEXT" not in arts[path]["text"]
        assert "ubscribe" not in arts[path]["text"] and "ubscribe" not in arts[path]["markdown"]
    assert "town council agreed its budget" in arts["/news/budget-deal.html"]["text"]
    assert not any(arts[p]["paywalled"] for p in SCRIPT_BUILT | PLAIN)
    # Markdown next to the text
    md = arts["/news/harbour-plan.html"]["markdown"]
    assert "## What changes" in md and "- a slipway for the lifeboat" in md
    assert f"[town's new budget]({render_site.url('/news/budget-deal.html')})" in md
    assert "> We waited long enough" in md


def test_render_never_starts_no_browser(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert set(_articles(database_url, render_site)) == PAYWALLED | PLAIN
    assert not [p for p in render_site.requests if p in BROWSER_ONLY]
    assert "hromium" not in proc.stderr


def test_missing_chromium_is_said_once_and_the_run_goes_on(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config(
        [{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")], "render": "auto"}],
        chromium="/nonexistent/chromium",
    )
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Chromium is not installed at /nonexistent/chromium") == 1
    assert "Traceback" not in proc.stderr
    assert set(_articles(database_url, render_site)) == PAYWALLED | PLAIN


def test_the_guard_refuses_a_private_address_the_crawl_does_not_allow(
    render_site: LocalSite,
) -> None:
    """With private networks not allowed, a rendered page's own script may not reach
    127.0.0.1: the request is aborted in the browser, and the server never sees it."""
    _need_browser()
    url = render_site.url("/news/night-trains.html")
    body = (SITE / "news" / "night-trains.html").read_bytes()

    async def go() -> Any:
        renderer = Renderer(
            CHROMIUM, timeout=20, guard=url_guard(SafetyMiddleware(allow_private=False))
        )
        try:
            return await renderer.render(url, body, {"Content-Type": "text/html"})
        finally:
            await renderer.close()

    page = asyncio.run(go())
    assert page.requests == []
    refused = dict(page.refused)
    assert render_site.url("/api/night-trains.json") in refused
    assert "non-public address" in refused[render_site.url("/api/night-trains.json")]
    assert render_site.requests == []  # nothing reached the server, not even the document
    assert "Loading" in page.html  # the script never got its story


def test_paywalled_and_markdown_in_show_search_export_stats(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    import json

    config = write_config([{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")]}])
    assert cli("crawl", "--config", str(config)).returncode == 0
    c = ("--config", str(config))
    plain = render_site.url("/news/harbour-plan.html")
    walled = render_site.url("/news/budget-deal.html")

    md = cli("show", *c, "--format", "markdown", plain)
    assert md.returncode == 0, md.stderr
    assert "## What changes" in md.stdout and "- covered stalls for the market" in md.stdout
    text = cli("show", *c, plain)
    assert "What changes" in text.stdout and "## What changes" not in text.stdout
    assert "Paywalled:" in cli("show", *c, walled).stdout

    def hits(*args: str) -> dict[str, bool]:
        proc = cli("search", *c, "--json", *args)
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        return {r["url"]: r["paywalled"] for r in rows}

    assert hits("council") == {walled: True, plain: False}
    assert hits("--paywalled", "council") == {walled: True}
    assert hits("--free", "council") == {plain: False}

    def exported(*args: str) -> dict[str, dict[str, Any]]:
        proc = cli("export", *c, "--format", "jsonl", *args)
        assert proc.returncode == 0, proc.stderr
        return {r["url"]: r for r in map(json.loads, proc.stdout.splitlines())}

    every = exported()
    assert set(every) == {render_site.url(p) for p in PAYWALLED | PLAIN}
    assert every[plain]["markdown"].startswith("The harbour council approved")
    assert every[walled]["paywalled"] is True and every[plain]["paywalled"] is False
    assert set(exported("--paywalled")) == {render_site.url(p) for p in PAYWALLED}
    assert set(exported("--free")) == {plain}
    csv = cli("export", *c, "--format", "csv", "--free")
    assert csv.returncode == 0 and "paywalled" in csv.stdout.splitlines()[0]

    stats = json.loads(cli("stats", *c, "--json").stdout)
    (row,) = stats["sources"]
    assert row["paywalled"] == pytest.approx(2 / 3, abs=1e-3)
    assert "paywalled" in cli("stats", *c).stdout


def test_reextract_reads_the_rendered_dom(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    _need_browser()
    config = write_config(
        [{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")], "render": "auto"}]
    )
    assert cli("crawl", "--config", str(config)).returncode == 0
    before = _articles(database_url, render_site)
    proc = cli("reextract", "--config", str(config), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    after = _articles(database_url, render_site)
    assert after == before  # the script-built pages still extract: from their rendered DOM


def test_render_always_renders_every_article_page(
    render_site: LocalSite,
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    _need_browser()
    config = write_config(
        [{"name": "coast", "sitemaps": [render_site.url("/sitemap.xml")], "render": "always"}]
    )
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    arts = _articles(database_url, render_site)
    assert set(arts) == SCRIPT_BUILT | PAYWALLED | PLAIN
    assert all(a["rendered"] for a in arts.values())
    assert all(arts[p]["paywalled"] for p in PAYWALLED)
    assert not [p for p in render_site.requests if p.startswith("/img/")]


def test_a_page_that_never_finishes_fails_within_its_time_limit(render_site: LocalSite) -> None:
    import time

    from common.errors import ExtractionError

    _need_browser()
    body = b"<html><body><p>Spinning</p><script>while (true) {}</script></body></html>"

    async def go() -> None:
        renderer = Renderer(
            CHROMIUM, timeout=3, guard=url_guard(SafetyMiddleware(allow_private=True))
        )
        try:
            await renderer.render(render_site.url("/news/spin.html"), body, {})
        finally:
            await renderer.close()

    started = time.monotonic()
    with pytest.raises(ExtractionError, match="longer than 3 s|could not load"):
        asyncio.run(go())
    assert time.monotonic() - started < 30  # browser start and close included, on a busy box
