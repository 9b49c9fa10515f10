"""Incremental archiving: fetch only what is new or changed, one article one row, every revision.

Fast tests use the archive and the components directly; the end-to-end ones crawl a copy of the
sample site several times through the real CLI, editing its files between the runs, and count
what the server was asked and how it answered.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.fetchstate import SourceState, UrlState
from common.fingerprint import hamming, simhash, text_fingerprint
from common.urls import canonical_url, variant_reason
from crawler.incremental import Decision, Incremental
from newsvault.crawl import load_source_state, save_source_state
from newsvault.sitesrv import LocalSite
from newsvault.textdiff import word_diff
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome
from tests.conftest import DATA
from tests.services import rows, sql

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STORY = (DATA / "expected" / "news_council-budget.html.txt").read_text(encoding="utf-8")
OTHER = (DATA / "expected" / "news_ferry-timetable.html.txt").read_text(encoding="utf-8")


# -- URL variants, normalisation, similarity ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical", "reason"),
    [
        (
            "https://ex.com/a/story?utm_source=x&utm_medium=y#top",
            "https://ex.com/a/story",
            "tracking",
        ),
        ("https://ex.com/a/story/amp/", "https://ex.com/a/story/", "amp"),
        ("https://ex.com/amp/a/story", "https://ex.com/a/story", "amp"),
        ("https://ex.com/a/story.amp.html", "https://ex.com/a/story.html", "amp"),
        ("https://amp.ex.com/a/story", "https://ex.com/a/story", "amp"),
        ("https://ex.com/a/story?amp=1", "https://ex.com/a/story", "amp"),
        ("https://ex.com/a/story?outputType=amp&id=4", "https://ex.com/a/story?id=4", "amp"),
        ("https://ex.com/a/story/print/", "https://ex.com/a/story/", "print"),
        ("https://ex.com/a/story?print=1", "https://ex.com/a/story", "print"),
        ("https://EX.com:443/a/story#x", "https://ex.com/a/story", None),
        ("https://ex.com/amp", "https://ex.com/amp", None),
        ("https://ex.com/news/sample-print-ads", "https://ex.com/news/sample-print-ads", None),
    ],
)
def test_url_variants_fold_into_one_key(url: str, canonical: str, reason: str | None) -> None:
    assert canonical_url(url) == canonical
    assert variant_reason(url) == reason


def test_trivial_changes_keep_the_fingerprint_and_real_ones_do_not() -> None:
    base = "Storm Idris\n\nWinds of 70mph are expected. Updated 5 minutes ago. 123 comments"
    trivial = (
        "storm  idris\nwinds of 70mph are expected!  updated 2 hours ago · 4 comments 17 shares"
    )
    assert text_fingerprint(base) == text_fingerprint(trivial)
    assert text_fingerprint(base) != text_fingerprint(base.replace("70mph", "80mph"))
    assert text_fingerprint("He sold a share of it.") != text_fingerprint("He sold of it.")


def test_simhash_finds_near_duplicates_only() -> None:
    a, b = (
        simhash(STORY),
        simhash(STORY.replace("4.9 per cent", "5.2 per cent").replace("Council", "council")),
    )
    assert a is not None and b is not None
    assert hamming(a, b) <= 3
    other = simhash(OTHER)
    assert other is not None and hamming(a, other) > 10
    assert simhash("too short to compare") is None


def test_word_diff_marks_changed_words_in_changed_paragraphs_only() -> None:
    old = "The council meets today.\n\nThe rise is 4.9% this year.\n\nNo other news."
    new = (
        "The council meets today.\n\nThe rise is 5.2% this year, officials said.\n\nNo other news."
    )
    assert word_diff(old, new) == ["¶2  The rise is [-4.9-]{+5.2+}% this year{+, officials said+}."]
    assert word_diff(old, old) == []


# -- the archive ---------------------------------------------------------------------------------


def _record(url: str, text: str, title: str = "Council budget", **kw: Any) -> ArticleRecord:
    return ArticleRecord(
        source="gazette",
        url=url,
        text=text,
        text_hash=text_fingerprint(text),
        title=title,
        simhash=simhash(text),
        **kw,
    )


def _fetch(url: str, when: datetime, body: bytes = b"<html>x</html>", **kw: Any) -> FetchRecord:
    return FetchRecord(url=url, fetched_at=when, status=200, body=body, **kw)


@pytest.fixture
def archive(database_url: str) -> Any:
    a = Archive.open(database_url)
    yield a
    a.close()


def test_revisions_are_kept_and_trivial_changes_are_not_revisions(archive: Archive) -> None:
    url = "https://ex.com/news/council-budget.html"
    assert archive.save_article(None, _record(url, STORY), _fetch(url, T0)) is Outcome.NEW
    trivial = STORY.replace("\n\n", "\n\n  ") + "\n\nUpdated 3 minutes ago · 12 comments"
    later = T0 + timedelta(hours=1)
    assert (
        archive.save_article(None, _record(url, trivial), _fetch(url, later)) is Outcome.UNCHANGED
    )
    edited = STORY.replace("4.9 per cent", "5.2 per cent")
    latest = T0 + timedelta(hours=2)
    out = archive.save_article(None, _record(url, edited), _fetch(url, latest, b"<p>5.2</p>"))
    assert out is Outcome.UPDATED
    retitled = _record(url, edited, title="Council proposes 5.2% rise")
    assert archive.save_article(None, retitled, _fetch(url, latest)) is Outcome.UPDATED
    found = archive.history(url + "?utm_source=feed")
    assert found is not None
    art, revisions = found
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert [r["seen_at"] for r in revisions] == [t.isoformat() for t in (T0, latest, latest)]
    assert revisions[0]["text"] == STORY and revisions[1]["text"] == edited
    assert revisions[2]["title"] == "Council proposes 5.2% rise"
    assert art["text"] == edited and art["revisions"] == 3


def test_show_and_the_web_read_the_revisions_that_history_and_export_read(
    archive: Archive,
) -> None:
    from storage.revisions import get_revision, list_revisions

    url = "https://ex.com/news/council-budget.html"
    archive.save_article(None, _record(url, STORY), _fetch(url, T0))
    edited = STORY.replace("4.9 per cent", "5.2 per cent")
    later = T0 + timedelta(hours=1)
    archive.save_article(None, _record(url, edited, "New"), _fetch(url, later, b"<p>5.2</p>"))
    found = archive.history(url)
    assert found is not None
    art, history = found
    (exported,) = archive.iter_articles(revisions=True)
    assert exported["history"] == history
    listed = list_revisions(archive.engine, art["id"])
    assert listed == [
        {
            "number": r["number"],
            "at": r["seen_at"],
            "title": r["title"],
            "text": r["text"],
            "body_sha256": r["body_sha256"],
        }
        for r in history
    ]
    assert [r["at"] for r in listed] == [T0.isoformat(), later.isoformat()]
    assert get_revision(archive.engine, art["id"], 2) == listed[1]
    assert get_revision(archive.engine, art["id"], 3) is None
    assert list_revisions(archive.engine, art["id"] + 1) == []


def test_same_and_nearly_same_text_under_another_url_is_an_alias(
    archive: Archive, database_url: str
) -> None:
    first = "https://ex.com/news/council-budget.html"
    archive.save_article(None, _record(first, STORY), _fetch(first, T0))
    copy = "https://ex.com/2026/11/council-budget-copy/"
    assert archive.save_article(None, _record(copy, STORY), _fetch(copy, T0)) is Outcome.DUPLICATE
    near = "https://ex.com/2026/11/council-budget-near/"
    near_text = STORY.replace("4.9 per cent", "4.8 per cent")
    assert (
        archive.save_article(None, _record(near, near_text), _fetch(near, T0)) is Outcome.DUPLICATE
    )
    other = "https://ex.com/news/ferry.html"
    assert archive.save_article(None, _record(other, OTHER), _fetch(other, T0)) is Outcome.NEW
    assert archive.count_articles() == 2
    aliases = dict(rows(database_url, "SELECT url, reason FROM aliases"))
    [(fetches,)] = rows(database_url, "SELECT count(*) FROM fetches")
    assert aliases == {copy: "same-text", near: "near-duplicate"}
    assert fetches == 4, "the fetch of every alias is kept with the first article"


def test_near_duplicates_can_be_switched_off(database_url: str) -> None:
    archive = Archive.open(database_url, near_duplicate_distance=None)
    try:
        a, b = "https://ex.com/a-b-c", "https://ex.com/a-b-d"
        archive.save_article(None, _record(a, STORY), _fetch(a, T0))
        out = archive.save_article(
            None, _record(b, STORY.replace("4.9 per cent", "4.8 per cent")), _fetch(b, T0)
        )
        assert out is Outcome.NEW
    finally:
        archive.close()


def test_an_archive_made_by_migration_0001_gets_revision_1_of_every_article(
    database_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from storage.db import _alembic_config

    engine = create_engine(database_url)
    command.upgrade(_alembic_config(engine), "0001")
    engine.dispose()
    with sql(database_url) as con:
        con.execute("INSERT INTO bodies VALUES ('ab', 1, ?)", (b"\x00",))
        con.execute(
            "INSERT INTO articles (source, url, title, authors, tags, text, text_hash,"
            " first_fetched_at, last_fetched_at, last_changed_at, body_sha256) VALUES"
            " ('gazette', 'https://ex.com/old', 'Old', '[]', '[]', ?, ?,"
            " '2026-11-01 10:00:00', '2026-11-02 10:00:00', '2026-11-01 12:00:00', 'ab')",
            (STORY, text_fingerprint(STORY)),
        )
    archive = Archive.open(database_url)
    try:
        found = archive.history("https://ex.com/old")
        assert found is not None
        art, revisions = found
        assert art["revisions"] == 1
        assert [(r["number"], r["text"], r["seen_at"]) for r in revisions] == [
            (1, STORY, "2026-11-01T12:00:00+00:00")
        ]
        near = "https://ex.com/old-near"
        record = _record(near, STORY.replace("4.9 per cent", "4.7 per cent"))
        assert archive.save_article(None, record, _fetch(near, T0)) is Outcome.DUPLICATE
    finally:
        archive.close()
    engine = create_engine(database_url)
    command.downgrade(_alembic_config(engine), "0001")  # and back: the migration reverses
    with engine.connect() as con:
        tables = set(inspect(con).get_table_names())
    engine.dispose()
    assert "revisions" not in tables and "articles" in tables


# -- which articles are fetched again --------------------------------------------------------------


def _state(published: str | None, fetched: datetime, **kw: Any) -> UrlState:
    defaults: dict[str, Any] = {
        "etag": '"e1"',
        "last_modified": None,
        "lastmod": None,
        "last_fetched_at": fetched,
        "published_at": published,
        "first_fetched_at": fetched,
    }
    return UrlState(**{**defaults, **kw})


def test_recheck_rules_and_moved_lastmod_decide_what_is_fetched() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    rules = [(timedelta(days=2), timedelta(0)), (timedelta(days=14), timedelta(days=1))]
    hour_ago = now - timedelta(hours=1)
    states = {
        "u/fresh": _state("2026-12-01T08:00:00+00:00", hour_ago),
        "u/week": _state("2026-11-25", hour_ago),
        "u/week-stale": _state("2026-11-25", now - timedelta(days=2)),
        "u/old": _state("2026-10-01", now - timedelta(days=30), lastmod="2026-10-02"),
        "u/alias": _state("2026-12-01", hour_ago, alias="same-text"),
    }
    inc = Incremental(SourceState(urls=states), rules, now=now)
    assert inc.decide("u/new", None) is Decision.NEW
    assert inc.decide("u/fresh", None) is Decision.DUE
    assert inc.decide("u/week", None) is Decision.NOT_DUE
    assert inc.decide("u/week-stale", None) is Decision.DUE
    assert inc.decide("u/old", "2026-10-02") is Decision.NOT_DUE
    assert inc.decide("u/old", "Mon, 05 Oct 2026 10:00:00 GMT") is Decision.NOT_DUE, "seen"
    assert inc.decide("u/old", "Tue, 01 Dec 2026 10:00:00 GMT") is Decision.MOVED
    assert inc.decide("u/alias", None) is Decision.NOT_DUE
    assert list(inc.due()) == ["u/fresh", "u/week-stale"]


def test_articles_that_failed_transiently_are_tried_again(database_url: str) -> None:
    archive = Archive.open(database_url)
    try:
        stored = "https://ex.com/news/stored.html"
        archive.save_article(None, _record(stored, STORY), _fetch(stored, T0))
        for page, kind, status in (
            ("timeout.html", "timeout", None),
            ("gone.html", "http", 404),
            ("busy.html", "http", 503),
            ("stored.html", "timeout", None),
            ("broken.html", "extraction", 200),
        ):
            archive.record_failure(
                None, "gazette", f"https://ex.com/news/{page}", kind, "x", status
            )
        archive.record_failure(None, "other", "https://ex.org/a.html", "timeout", "x")
        now = datetime.now(UTC)
        assert archive.retry_urls("gazette", now + timedelta(hours=1)) == []
        state = load_source_state(archive, "gazette", incremental=True)
        off = load_source_state(archive, "gazette", incremental=False)
    finally:
        archive.close()
    inc = Incremental(state, [])
    assert list(inc.due()) == ["https://ex.com/news/busy.html", "https://ex.com/news/timeout.html"]
    assert off == SourceState(), "without incremental fetching only waiting URLs are handed in"


def test_incremental_fetching_switches_off_with_its_setting() -> None:
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from common.config import Config
    from crawler.settings import NEWSVAULT_DEFAULTS, scrapy_settings

    from_config = scrapy_settings(Config())
    for key in ("NEWSVAULT_RECHECK", "NEWSVAULT_NEAR_DUPLICATE_DISTANCE"):
        assert from_config[key] == NEWSVAULT_DEFAULTS[key], "config and settings defaults agree"

    with pytest.raises(NotConfigured):
        Incremental.from_crawler(get_crawler(settings_dict=dict(NEWSVAULT_DEFAULTS)), SourceState())
    on = get_crawler(settings_dict={**NEWSVAULT_DEFAULTS, "NEWSVAULT_INCREMENTAL": True})
    inc = Incremental.from_crawler(on, SourceState())
    assert inc.rules == ((timedelta(days=2), timedelta(0)), (timedelta(days=14), timedelta(days=1)))


class _Stats(dict):  # type: ignore[type-arg]
    def get_value(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self[key] = value

    def inc_value(self, key: str, count: int = 1) -> None:
        self[key] = self.get(key, 0) + count


@pytest.mark.parametrize(
    ("capped", "reason", "kept"),
    [(False, "finished", True), (True, "finished", False), (False, "shutdown", False)],
)
def test_listing_validators_are_kept_only_after_a_complete_run(
    database_url: str, capped: bool, reason: str, kept: bool
) -> None:
    archive = Archive.open(database_url)
    try:
        state = load_source_state(archive, "gazette", incremental=True)
        inc = Incremental(state, [], stats=_Stats({"newsvault/over_limit": 3} if capped else {}))
        state.seen_validators["http://ex.com/feed.xml"] = ('"abc"', None)
        inc.spider_closed(None, reason)
        save_source_state(archive, "gazette", state)
        stored = archive.validators("gazette")
    finally:
        archive.close()
    assert state.keep_validators is kept
    assert stored == ({"http://ex.com/feed.xml": ('"abc"', None)} if kept else {})


def test_validators_that_cannot_be_saved_are_only_a_warning(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = database_url
    Archive.open(url).close()
    state = SourceState(seen_validators={"http://ex.com/feed.xml": ('"abc"', None)})
    state.keep_validators = True
    archive = Archive.open(url, readonly=True)
    try:
        save_source_state(archive, "gazette", state)
    finally:
        archive.close()
    assert "could not save the validators of gazette's listings" in caplog.text


def test_the_spider_gets_its_state_handed_in_and_hands_validators_back() -> None:
    """No archive here: the state is built by hand, as run_crawl builds it from the archive."""
    import asyncio

    from scrapy import signals
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler

    from common.config import Source
    from crawler.settings import NEWSVAULT_DEFAULTS
    from crawler.spiders.news import NewsSpider

    feed, sitemap = "https://gazette.test/feed.xml", "https://gazette.test/sitemap.xml"
    known = "https://gazette.test/news/known.html"
    state = SourceState(
        urls={known: _state(None, T0, etag='"k1"')},
        validators={feed: ('"f1"', "Fri, 20 Nov 2026 12:00:00 GMT")},
        retry=["https://gazette.test/news/timed-out.html"],
        waiting={sitemap: T0 + timedelta(days=1)},
    )
    settings = {**NEWSVAULT_DEFAULTS, "NEWSVAULT_INCREMENTAL": True, "NEWSVAULT_RECHECK": ()}
    crawler = get_crawler(NewsSpider, settings)
    source = Source(name="gazette", feeds=(feed,), sitemaps=(sitemap,))
    spider = crawler._create_spider(source=source, fetch_state=state)
    crawler.spider = spider
    crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
    assert crawler.stats.get_value("newsvault/known_urls") == 1

    async def start() -> list[Any]:
        return [r async for r in spider.start()]

    requests = asyncio.run(start())
    assert [r.url for r in requests] == [feed, "https://gazette.test/news/timed-out.html"]
    assert requests[0].headers[b"If-None-Match"] == b'"f1"'
    assert requests[0].headers[b"If-Modified-Since"] == b"Fri, 20 Nov 2026 12:00:00 GMT"
    assert spider.incremental is not None
    assert spider.incremental.decide(known, None) is Decision.NOT_DUE
    assert spider.incremental.article(Request(known)).headers[b"If-None-Match"] == b'"k1"'

    rss = b"<rss><channel></channel></rss>"
    response = Response(feed, body=rss, headers={"ETag": '"f2"'}, request=requests[0])
    list(spider.parse_feed(response))
    assert state.seen_validators == {feed: ('"f2"', None)}
    assert state.validators_to_save() == {}, "not before the run has finished"
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
    assert state.keep_validators
    assert state.validators_to_save() == {feed: ('"f2"', None)}


def test_local_site_answers_conditional_requests_like_a_real_server(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>one</p>")
    with LocalSite(tmp_path) as site:
        with urllib.request.urlopen(site.url("/a.html")) as resp:
            etag, modified = resp.headers["ETag"], resp.headers["Last-Modified"]
        for header, value in (("If-None-Match", etag), ("If-Modified-Since", modified)):
            req = urllib.request.Request(site.url("/a.html"), headers={header: value})
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req)
            assert err.value.code == 304
            err.value.close()
        (tmp_path / "a.html").write_text("<p>two</p>")
        req = urllib.request.Request(site.url("/a.html"), headers={"If-None-Match": etag})
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200 and resp.read() == b"<p>two</p>"
    assert [a.status for a in site.answers] == [200, 304, 304, 200]


# -- end to end: two crawls of a changing site --------------------------------------------------

LISTINGS = {"/feed.xml", "/atom.xml", "/rss1.rdf", "/sitemap_index.xml", "/"}


def _config(write_config: Callable[..., Path], site: LocalSite, recheck: list[Any]) -> Path:
    path = write_config(
        [
            {
                "name": "gazette",
                "feeds": [site.url(p) for p in ("/feed.xml", "/atom.xml", "/rss1.rdf")],
                "sitemaps": [site.url("/sitemap_index.xml")],
                "start_urls": [site.url("/")],
            }
        ]
    )
    data = yaml.safe_load(path.read_text())
    data["incremental"] = {"recheck": recheck}
    path.write_text(yaml.safe_dump(data))
    return path


def _run(cli: Any, config: Path) -> None:
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr


def _runs(url: str) -> list[tuple[Any, ...]]:
    return rows(
        url, "SELECT articles_new, articles_updated, articles_unchanged FROM runs ORDER BY id"
    )


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.slow
def test_later_runs_ask_for_listings_due_rechecks_and_moved_articles_only(
    make_site: Any, manifest: dict[str, Any], write_config: Any, cli: Any, database_url: str
) -> None:
    site = make_site()
    # due: the articles published on 25 November or later; the rest are too old to re-check
    cut = datetime.now(UTC) - datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    config = _config(write_config, site, [{"younger_than": int(cut.total_seconds()), "every": 0}])
    _run(cli, config)
    del site.answers[:]
    _run(cli, config)
    due = {p for p, a in manifest["articles"].items() if a["published"] >= "2026-11-25"}
    assert len(due) == 4
    asked = {a.path: a.status for a in site.answers}
    assert set(asked) == LISTINGS | due | {"/robots.txt"}
    assert all(asked[p] == 304 for p in LISTINGS | due), asked
    assert all(a.if_none_match for a in site.answers if a.path != "/robots.txt")
    assert len(site.answers) == len(asked), "nothing is asked twice"
    assert _runs(database_url) == [(12, 0, 0), (0, 0, 4)]

    # an old article's sitemap lastmod moves: it alone is asked for besides the due ones
    root = Path(site.root)
    moved = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="seconds")
    _edit(root, "sitemap-posts.xml", "2026-11-20T16:10:00+00:00", moved)
    _edit(root, "sitemap_index.xml", "2026-11-28T19:05:00+00:00", moved)
    del site.answers[:]
    _run(cli, config)
    articles = {a.path for a in site.answers} & set(manifest["articles"])
    assert articles == due | {"/2026/11/harbour-dredging/"}
    del site.answers[:]
    _run(cli, config)  # the moved lastmod is remembered: not asked for again
    assert "/2026/11/harbour-dredging/" not in {a.path for a in site.answers}


@pytest.mark.slow
def test_edited_article_gives_one_revision_and_a_trivial_change_none(
    make_site: Any, write_config: Any, cli: Any, database_url: str
) -> None:
    site = make_site()
    config = _config(write_config, site, [{"younger_than": "36500d", "every": 0}])
    _run(cli, config)
    root = Path(site.root)
    _edit(root, "news/council-budget.html", "4.9 per cent", "5.2 per cent")
    # trivial: white space, a relative time and a counter, inside the article text
    _edit(
        root,
        "news/fish-market-fire.html",
        "the morning&#x27;s auction.</p>",
        "the  morning&#x27;s   auction. Updated 5 minutes ago, 12 comments.</p>",
    )
    _run(cli, config)
    assert _runs(database_url) == [(12, 0, 0), (0, 1, 11)]
    counts = dict(
        rows(
            database_url,
            "SELECT url, count(*) FROM revisions r JOIN articles a"
            " ON a.id = r.article_id GROUP BY url",
        )
    )
    assert counts.pop(site.url("/news/council-budget.html")) == 2
    assert set(counts.values()) == {1}
    url = site.url("/news/council-budget.html")
    hist = cli("history", "--config", str(config), url)
    assert hist.returncode == 0, hist.stderr
    assert [line.split()[0] for line in hist.stdout.splitlines()[1:]] == ["1", "2"]
    diff = cli("diff", "--config", str(config), url)
    assert diff.returncode == 0, diff.stderr
    changes = [line for line in diff.stdout.splitlines() if line.startswith("¶")]
    assert changes and all("[-4.9-]{+5.2+}" in c for c in changes)
    assert "\x1b[" not in diff.stdout, "no colour when the output is not a terminal"
    assert cli("diff", "--config", str(config), url, "--from", "7").returncode == 2
    assert cli("history", "--config", str(config), site.url("/nope")).returncode == 2
    export = cli("export", "--config", str(config), "--revisions")
    records = {r["url"]: r for r in map(json.loads, export.stdout.splitlines())}
    assert records[url]["revisions"] == 2
    assert [("4.9 per" in h["text"], "5.2 per" in h["text"]) for h in records[url]["history"]] == [
        (True, False),
        (False, True),
    ]


@pytest.mark.slow
def test_variants_and_copies_of_an_article_are_aliases_not_articles(
    make_site: Any, write_config: Any, cli: Any, database_url: str
) -> None:
    def add_variants(root: Path) -> None:
        story = (root / "news" / "fish-market-fire.html").read_text(encoding="utf-8")
        (root / "news" / "fish-market-fire-2.html").write_text(story, encoding="utf-8")
        links = "".join(
            f'<a href="{href}">x</a>'
            for href in (
                "/news/storm-warning.html?amp=1",
                "/news/storm-warning.amp.html",
                "/news/fish-market-fire-2.html",  # declares the original canonical
            )
        )
        _edit(root, "index.html", "</body>", links + "</body>")

    def aliases() -> dict[str, str]:
        assert rows(database_url, "SELECT count(*) FROM articles") == [(12,)]
        return dict(rows(database_url, "SELECT url, reason FROM aliases"))

    site = make_site(add_variants)
    config = _config(write_config, site, [])
    _run(cli, config)
    expected = {
        site.url("/news/ferry-timetable.html?utm_source=twitter&utm_medium=social"): "tracking",
        site.url("/news/storm-warning.html?amp=1"): "amp",
        site.url("/news/storm-warning.amp.html"): "amp",
        site.url("/news/fish-market-fire-2.html"): "canonical",
    }
    assert aliases() == expected
    assert "/news/storm-warning.amp.html" not in site.requests

    # a copy without the canonical link appears on the home page: same text, an alias
    root = Path(site.root)
    story = (root / "news" / "fish-market-fire.html").read_text(encoding="utf-8")
    canonical = '<link rel="canonical" href="__BASE__/news/fish-market-fire.html">'
    (root / "news" / "fish-market-fire-copy.html").write_text(story.replace(canonical, ""))
    link = '<a href="/news/fish-market-fire-copy.html">x</a>'
    _edit(root, "index.html", "</body>", link + "</body>")
    del site.answers[:]
    _run(cli, config)
    news = [a.path for a in site.answers if a.path.startswith("/news/")]
    assert news == ["/news/fish-market-fire-copy.html"]
    expected[site.url("/news/fish-market-fire-copy.html")] = "same-text"
    assert aliases() == expected
    hist = cli("history", "--config", str(config), site.url("/news/fish-market-fire-copy.html"))
    assert site.url("/news/fish-market-fire.html") in hist.stdout

    del site.answers[:]
    _run(cli, config)  # nothing new: no article is asked for
    assert not [a for a in site.answers if a.path.startswith("/news/")]
