"""End-to-end crawls of the bundled sample site on 127.0.0.1, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsvault.sitesrv import LocalSite
from storage.repository import Archive
from tests.conftest import DATA
from tests.faultsrv import held_port
from tests.services import rows, sqlite_only

pytestmark = pytest.mark.slow


def stored(url: str) -> dict[str, dict[str, Any]]:
    archive = Archive.open(url)
    try:
        return {a["url"]: a for a in archive.iter_articles()}
    finally:
        archive.close()


def expected_urls(site: LocalSite, manifest: dict[str, Any], *kinds: str) -> set[str]:
    return {
        site.url(path)
        for path, art in manifest["articles"].items()
        if set(kinds) & set(art["listed_in"])
    }


ENTRY_KINDS = {
    "feed": ("feeds", "/feed.xml", ("feed",)),
    "atom": ("feeds", "/atom.xml", ("atom",)),
    "rss1": ("feeds", "/rss1.rdf", ("rss1",)),
    "sitemap-index": (
        "sitemaps",
        "/sitemap_index.xml",
        ("sitemap-posts", "sitemap-news", "sitemap-archive"),
    ),
    "news-sitemap": ("sitemaps", "/sitemap-news.xml", ("sitemap-news",)),
    "gzip-sitemap": ("sitemaps", "/sitemap-archive.xml.gz", ("sitemap-archive",)),
}


@pytest.mark.parametrize("kind", sorted(ENTRY_KINDS))
def test_each_kind_of_entry_point_finds_its_articles(
    kind: str,
    site: LocalSite,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    key, path, listed = ENTRY_KINDS[kind]
    config = write_config([{"name": "gazette", key: [site.url(path)]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert set(stored(database_url)) == expected_urls(site, manifest, *listed)
    header, row = proc.stdout.splitlines()  # the summary, as TSV off a terminal
    assert header.startswith("source\tstatus\tpages") and row.startswith("gazette\tok\t")


def test_start_page_links_alone(
    make_site,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    def no_sitemap_in_robots(root: Path) -> None:
        robots = root / "robots.txt"
        robots.write_text("User-agent: *\nDisallow: /private/\n")

    site = make_site(no_sitemap_in_robots)
    config = write_config([{"name": "gazette", "start_urls": [site.url("/")]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert set(stored(database_url)) == expected_urls(site, manifest, "home")
    asked = set(site.requests)
    assert not any("sitemap" in p for p in asked)
    for path in manifest["disallowed"]:
        assert path not in asked, "robots.txt Disallow was not obeyed"
    for path in manifest["non_articles"]:
        assert site.url(path) not in stored(database_url)
    # the tracking-parameter variant of a linked article was not fetched a second time
    assert not any("utm_" in p for p in asked)


def test_robots_txt_sitemaps_are_used_for_a_bare_home_page(
    make_site,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    def home_without_links(root: Path) -> None:
        (root / "index.html").write_text("<html><body><h1>Welcome</h1></body></html>")

    site = make_site(home_without_links)
    config = write_config([{"name": "gazette", "start_urls": [site.url("/")]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "/sitemap_index.xml" in site.requests
    assert set(stored(database_url)) == {site.url(p) for p in manifest["articles"]}


def _full_source(site: LocalSite) -> dict[str, Any]:
    return {
        "name": "gazette",
        "feeds": [site.url("/feed.xml"), site.url("/atom.xml"), site.url("/rss1.rdf")],
        "sitemaps": [site.url("/sitemap_index.xml")],
        "start_urls": [site.url("/")],
    }


def test_wordpress_page_is_stored_as_exactly_its_article(
    site: LocalSite,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    proc = cli("crawl", "--config", str(write_config([_full_source(site)])))
    assert proc.returncode == 0, proc.stderr
    articles = stored(database_url)
    wordpress = [p for p, a in manifest["articles"].items() if a["template"] == "wordpress"]
    assert wordpress
    for path in wordpress:
        art = articles[site.url(path)]
        meta = manifest["articles"][path]
        expected = (DATA / "expected" / meta["expected"]).read_text(encoding="utf-8").strip()
        assert art["text"] == expected, path
        assert art["title"] == meta["title"]
        assert art["authors"] == meta["authors"]
        assert (art["published_at"] or "").startswith(meta["published"])
    everything = "\n".join(a["text"] for a in articles.values())
    for junk in (
        "No votes yet",
        "Please wait",
        "Leave a Reply",
        "will not be published",
        "Required fields",
    ):
        assert junk not in everything


def test_second_crawl_stores_nothing_twice(
    site: LocalSite,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([_full_source(site)])
    # every article is due a re-check on the second run, so each is asked for again
    data = yaml.safe_load(config.read_text())
    data["incremental"] = {"recheck": [{"younger_than": "36500d", "every": 0}]}
    config.write_text(yaml.safe_dump(data))
    assert cli("crawl", "--config", str(config)).returncode == 0
    first = stored(database_url)
    assert len(first) == len(manifest["articles"])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    second = stored(database_url)
    assert set(second) == set(first)
    runs = rows(
        database_url, "SELECT status, articles_new, articles_unchanged FROM runs ORDER BY id"
    )
    [(bodies,)] = rows(database_url, "SELECT count(*) FROM bodies")
    dup_urls = rows(database_url, "SELECT url FROM articles GROUP BY url HAVING count(*) > 1")
    assert runs == [("ok", 12, 0), ("ok", 0, 12)]
    assert bodies == 12, "an unchanged page's raw HTML is stored once"
    assert dup_urls == []


def test_failed_pages_are_recorded_and_the_rest_archived(
    make_site,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    def add_dead_links(root: Path) -> None:
        feed = root / "feed.xml"
        text = feed.read_text()
        extra = "<item><title>Gone</title><link>__BASE__/2026/11/gone-missing-story/</link></item>"
        feed.write_text(text.replace("</channel>", extra + "</channel>"))

    site = make_site(add_dead_links)
    config = write_config([{"name": "gazette", "feeds": [site.url("/feed.xml")]}])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert set(stored(database_url)) == expected_urls(site, manifest, "feed")
    failures = rows(database_url, "SELECT url, kind, status, reason FROM failures")
    assert failures == [(site.url("/2026/11/gone-missing-story/"), "http", 404, "HTTP 404")]
    assert rows(database_url, "SELECT status, errors FROM runs") == [("partial", 1)]


def test_exit_status_when_every_request_fails(write_config, cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    # The port stays bound (never listening) for the whole crawl: a port that was only closed
    # can be taken by another process, which then answers (a 404, not a connection error).
    with held_port() as port:
        url = f"http://127.0.0.1:{port}/feed.xml"
        config = write_config([{"name": "dead", "feeds": [url]}], timeout=5)
        proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "every source failed" in proc.stderr
    assert rows(database_url, "SELECT status FROM runs") == [("failed",)]
    assert rows(database_url, "SELECT kind FROM failures") == [("feed-connection",)]


@sqlite_only("missing folder")
def test_exit_status_when_the_database_is_unwritable(
    site: LocalSite,
    tmp_path: Path,
    write_config,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    config = write_config([{"name": "gazette", "feeds": [site.url("/feed.xml")]}])
    text = config.read_text().replace(str(tmp_path / "archive.db"), str(ro / "missing" / "a.db"))
    config.write_text(text)
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 3
    assert "cannot create the archive" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert site.requests == [], "nothing is fetched when the archive cannot be written"


def test_export_jsonl(
    site: LocalSite,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([_full_source(site)])
    assert cli("crawl", "--config", str(config)).returncode == 0
    proc = cli("export", "--config", str(config), "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == len(manifest["articles"])
    for row in rows:
        for field in (
            "url",
            "source",
            "title",
            "authors",
            "published_at",
            "language",
            "text",
            "fetched_at",
        ):
            assert field in row
        assert row["source"] == "gazette"
    by_url = {r["url"]: r for r in rows}
    meta = manifest["articles"]["/2026/11/harbour-dredging/"]
    assert by_url[site.url("/2026/11/harbour-dredging/")]["title"] == meta["title"]


def test_demo_command_runs_offline(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    proc = cli("demo", "--db", str(tmp_path / "demo.db"))
    assert proc.returncode == 0, proc.stderr
    assert "12 articles archived" in proc.stdout
    assert "No votes yet" not in proc.stdout and "Leave a Reply" not in proc.stdout


def test_pages_that_are_not_articles_are_not_stored(
    site: LocalSite,
    manifest: dict[str, Any],
    write_config,
    cli,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    # every same-site link is an article candidate here, so extraction alone must say no
    config = write_config(
        [{"name": "gazette", "start_urls": [site.url("/")], "article_urls": ["."]}]
    )
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    fetched = {r.split("?")[0] for r in site.requests}
    for path in manifest["non_articles"]:
        assert path in fetched, f"{path} was not even fetched; the test proves nothing"
    urls = set(stored(database_url))
    for path in manifest["non_articles"]:
        assert site.url(path) not in urls, f"{path} was stored as an article"
    assert {site.url(p) for p in manifest["articles"]} <= urls
