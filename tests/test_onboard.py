"""A new user's first commands, against the local sample site: init, sources add/list/remove,
check (with and without --fetch), extract (URL, FILE, stdin)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.config import load_config
from newsvault.sitesrv import LocalSite
from tests.services import has_archive

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _starter(cli: Cli, folder: Path, *, allow_private: bool = True) -> Path:
    """``newsvault init`` into ``folder``, then the test's settings: loopback allowed, no delay."""
    done = cli("init", str(folder))
    assert done.returncode == 0, done.stderr
    path = folder / "config.yaml"
    text = path.read_text(encoding="utf-8")
    if allow_private:
        text = text.replace("allow_private_networks: false", "allow_private_networks: true")
    text = text.replace("download_delay: 0.25 ", "download_delay: 0    ")
    path.write_text(text, encoding="utf-8")
    return path


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#") or " # " in line]


def test_init_writes_a_commented_valid_config_and_never_overwrites(tmp_path: Path, cli: Cli):
    folder = tmp_path / "mine"
    done = cli("init", str(folder))
    assert done.returncode == 0, done.stderr
    path = folder / "config.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# newsvault configuration")
    assert "newsvault sources add" in text  # the file says how to add a site
    config = load_config(path)
    assert config.sources == ()
    assert config.database == f"sqlite:///{(folder / 'newsvault.db').resolve()}"
    for step in ("sources add", "check --fetch", "crawl", "serve"):
        assert f"newsvault {step}" in done.stdout
    assert f"cd {folder}" in done.stdout

    path.write_text("# mine\n", encoding="utf-8")
    again = cli("init", str(folder))
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_sources_add_finds_feeds_and_sitemaps_from_the_home_page(
    tmp_path: Path, cli: Cli, site: LocalSite
):
    path = _starter(cli, tmp_path)
    before = path.read_text(encoding="utf-8")
    done = cli(
        "sources", "add", site.url("/"), "--name", "gazette", "--schedule", "*/30 * * * *",
        "--config", str(path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # what it found, and where: <link rel=alternate>, robots.txt, an index's children, news
    assert f"feed     {site.url('/feed.xml')}" in out and "from home page" in out
    assert f"feed     {site.url('/atom.xml')}" in out
    assert f"index    {site.url('/sitemap_index.xml')}" in out and "from robots.txt" in out
    assert f"news     {site.url('/sitemap-news.xml')}" in out
    assert f"4 links, listed in {site.url('/sitemap_index.xml')}" in out
    after = path.read_text(encoding="utf-8")
    assert _comments(before) == _comments(after)  # comments and layout kept
    assert after.startswith(before.removesuffix("sources: []\n"))
    source = load_config(path).source("gazette")
    assert set(source.feeds) == {site.url("/feed.xml"), site.url("/atom.xml")}
    # the index covers the sitemaps it lists (the news sitemap among them)
    assert source.sitemaps == (site.url("/sitemap_index.xml"),)
    assert source.schedule == "*/30 * * * *"
    assert source.domains == ("127.0.0.1",)
    assert "newsvault crawl --source gazette" in out

    # list, then remove: the file is back as it was
    listed = cli("sources", "list", "--config", str(path), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["gazette"] and rows[0]["schedule"] == "*/30 * * * *"
    gone = cli("sources", "remove", "gazette", "--config", str(path))
    assert gone.returncode == 0, gone.stderr
    assert path.read_text(encoding="utf-8") == before
    missing = cli("sources", "remove", "gazette", "--config", str(path))
    assert missing.returncode == 2 and "no source named 'gazette'" in missing.stderr


def test_sources_add_falls_back_to_the_home_page(
    tmp_path: Path, cli: Cli, make_site: Callable[..., LocalSite]
):
    def bare(root: Path) -> None:
        for name in ("robots.txt", "feed.xml", "atom.xml", "rss1.rdf"):
            (root / name).unlink()
        for sitemap in root.glob("sitemap*"):
            sitemap.unlink()

    s = make_site(bare)
    path = _starter(cli, tmp_path)
    done = cli("sources", "add", s.url("/"), "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "no feed or sitemap found" in done.stdout
    source = load_config(path).source("127.0.0.1")  # named after the host
    assert source.start_urls == (s.url("/"),) and source.feeds == () == source.sitemaps


def test_sources_add_refusals_change_nothing(tmp_path: Path, cli: Cli, site: LocalSite):
    path = _starter(cli, tmp_path, allow_private=False)
    before = path.read_text(encoding="utf-8")
    blocked = cli("sources", "add", site.url("/"), "--config", str(path))
    assert blocked.returncode == 1
    assert "allow_private_networks" in blocked.stderr and "nothing added" in blocked.stderr
    assert not site.requests  # the guard refused before any connection
    for args, why in [
        (("ftp://example.com/",), "not an http(s) URL"),
        ((site.url("/"), "--schedule", "61 * * * *"), "schedule"),
        ((site.url("/"), "--name", "bad name"), "a name is"),
    ]:
        done = cli("sources", "add", *args, "--config", str(path))
        assert done.returncode == 2, (args, done.stderr)
        assert why in done.stderr and "Traceback" not in done.stderr
    assert path.read_text(encoding="utf-8") == before
    assert not site.requests


def _config(write_config: Callable[..., Path], site: LocalSite, **extra: Any) -> Path:
    return write_config([{"name": "gazette", "feeds": [site.url("/feed.xml")], **extra}])


def test_check_validates_without_archive_or_network(
    write_config: Callable[..., Path], database_url: str, cli: Cli, site: LocalSite
):
    path = _config(write_config, site)
    done = cli("check", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "valid; 1 sources" in done.stdout and "gazette: 1 feeds" in done.stdout
    assert not site.requests and not has_archive(database_url)


def test_check_fetch_counts_article_urls_and_stores_nothing(
    write_config: Callable[..., Path], database_url: str, cli: Cli, site: LocalSite, manifest: Any
):
    path = write_config(
        [
            {"name": "gazette", "feeds": [site.url("/feed.xml")],
             "sitemaps": [site.url("/sitemap_index.xml")]},
            {"name": "gone", "feeds": [site.url("/no-such-feed.xml")]},
        ]
    )  # fmt: skip
    done = cli("check", "--fetch", "--json", "--config", str(path))
    assert done.returncode == 1, done.stderr  # a source that yields nothing fails the check
    rows = {r["source"]: r for r in map(json.loads, done.stdout.splitlines())}
    listed = {
        p for p, a in manifest["articles"].items()
        if {"feed", "sitemap-posts", "sitemap-news", "sitemap-archive"} & set(a["listed_in"])
    }  # fmt: skip
    assert rows["gazette"]["article_urls"] == len(listed) > 0
    assert rows["gazette"]["failures"] == []
    assert rows["gone"]["article_urls"] == 0
    assert rows["gone"]["failures"][0]["kind"] == "feed-http"
    assert "HTTP 404" in rows["gone"]["failures"][0]["reason"]
    fetched = set(site.requests)
    assert not any(p in fetched for p in manifest["articles"])  # no article page was fetched
    assert not has_archive(database_url)


def test_extract_a_url_a_file_and_stdin(
    write_config: Callable[..., Path], cli: Cli, site: LocalSite, manifest: Any, tmp_path: Path
):
    page, want = next(iter(manifest["articles"].items()))
    path = _config(write_config, site)
    done = cli("extract", site.url(page), "--json", "--config", str(path))
    assert done.returncode == 0, done.stderr
    art = json.loads(done.stdout)
    assert art["title"] == want["title"] and art["authors"] == want["authors"]
    assert art["url"] == site.url(page) and len(art["text"].split()) > 50

    from newsvault.demo import DEMO_SITE

    html = DEMO_SITE / want["file"]
    as_file = cli("extract", str(html))
    assert as_file.returncode == 0, as_file.stderr
    assert as_file.stdout.startswith(want["title"] + "\n\n")
    assert art["text"] in as_file.stdout

    import os
    import sys

    piped = subprocess.run(
        [sys.executable, "-m", "newsvault", "extract", "-", "--url", site.url(page), "--json"],
        input=html.read_bytes(),
        capture_output=True,
        env=os.environ,
        cwd=tmp_path,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["text"] == art["text"]


def test_extract_refuses_what_is_not_an_article(
    write_config: Callable[..., Path], cli: Cli, site: LocalSite, tmp_path: Path
):
    path = _config(write_config, site)
    listing = cli("extract", site.url("/tag/harbour/"), "--config", str(path))
    assert listing.returncode == 1 and "not an article" in listing.stderr
    missing = cli("extract", site.url("/no-such-page.html"), "--config", str(path))
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
    nofile = cli("extract", str(tmp_path / "nothing.html"))
    assert nofile.returncode == 2 and "cannot read" in nofile.stderr
    for done in (listing, missing, nofile):
        assert "Traceback" not in done.stderr


def test_readme_walkthrough_init_add_crawl_serve(tmp_path: Path, cli: Cli, site: LocalSite):
    """README's "Using it", step by step: init, sources add, check --fetch, crawl, serve."""
    import os
    import sys
    import urllib.request

    path = _starter(cli, tmp_path / "my-archive")
    env = {"NEWSVAULT_CONFIG": str(path)}
    assert cli("sources", "add", site.url("/"), env=env).returncode == 0
    checked = cli("check", "--fetch", env=env)
    assert checked.returncode == 0 and "127.0.0.1: 12 article URLs" in checked.stdout
    crawled = cli("crawl", env=env)
    assert crawled.returncode == 0, crawled.stderr
    assert (tmp_path / "my-archive" / "newsvault.db").exists()
    server = subprocess.Popen(
        [sys.executable, "-m", "newsvault", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), line
        with urllib.request.urlopen(url + "api/search?q=harbour", timeout=30) as response:
            body = response.read().decode("utf-8")
        assert "Harbour dredging to begin in January" in body
    finally:
        server.terminate()
        server.communicate(timeout=30)
