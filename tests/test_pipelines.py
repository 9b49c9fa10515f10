"""Item pipelines and middlewares, built from settings with Scrapy's get_crawler."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from common.config import Source
from common.fingerprint import text_hashes
from crawler.items import ArticleItem, FailureItem
from crawler.middlewares import BlockedRequest, SafetyMiddleware
from crawler.spiders.news import NewsSpider
from pipeline.extract import Article
from pipeline.pipelines import (
    DedupePipeline,
    Extracted,
    ExtractPipeline,
    StorePipeline,
    text_fingerprint,
)
from pipeline.records import article_record
from storage.repository import Archive

PARA = (
    "The harbour council voted on Tuesday to approve the long-delayed dredging of the inner "
    "basin, a project that fishermen have demanded for more than a decade. "
)
PAGE = f"""<html lang="en"><head><title>Dredging approved</title>
<link rel="canonical" href="https://gazette.test/news/dredging.html"></head><body>
<article><h1>Dredging approved</h1><p>{PARA * 3}</p><p>{PARA * 2}</p></article>
<div class="post-ratings">No votes yet.</div><div class="post-ratings-loading">Please wait...</div>
<div id="respond"><h3 id="reply-title">Leave a Reply</h3><form id="commentform">
<p>Your email address will not be published. Required fields are marked *</p></form></div>
</body></html>"""
SOURCE = Source(name="gazette", feeds=("https://gazette.test/feed.xml",))


def crawler_for(database_url: str, **settings: Any) -> Any:
    base = {"NEWSVAULT_DATABASE": database_url, "NEWSVAULT_EXTRACT_WORKERS": 0}
    crawler = get_crawler(NewsSpider, {**base, **settings})
    crawler.spider = crawler._create_spider(source=SOURCE)
    return crawler


def page(
    url: str = "https://gazette.test/news/dredging.html?utm_source=rss", html: str = PAGE
) -> ArticleItem:
    return ArticleItem(
        url=url,
        source="gazette",
        fetched_at=datetime.now(UTC),
        status=200,
        html=html.encode(),
        encoding="utf-8",
    )


def test_extract_then_dedupe_then_store(database_url: str) -> None:
    crawler = crawler_for(database_url)
    extract = ExtractPipeline.from_crawler(crawler)
    dedupe = DedupePipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    for p in (extract, dedupe, store):
        p.open_spider()
    item = asyncio.run(extract.process_item(page()))
    assert isinstance(item, Extracted)
    assert "No votes yet" not in item.article.text and "Leave a Reply" not in item.article.text
    item = dedupe.process_item(item)
    assert item.key == "https://gazette.test/news/dredging.html"
    store.process_item(item)
    with pytest.raises(DropItem, match="already archived in this run"):
        dedupe.process_item(asyncio.run(extract.process_item(page())))
    store.process_item(FailureItem("https://gazette.test/x", "gazette", "http", "HTTP 500", 500))
    store.spider_closed(crawler.spider, "finished")
    extract.close_spider()
    archive = Archive.open(database_url)
    try:
        [art] = list(archive.iter_articles())
        assert art["url"] == "https://gazette.test/news/dredging.html"
        assert art["title"] == "Dredging approved"
        assert art["text"].split("\n\n")[0].startswith("The harbour council voted")
        [run] = archive.runs()
        assert (run["status"], run["articles_new"], run["errors"]) == ("partial", 1, 1)
        assert archive.failures()[0]["reason"] == "HTTP 500"
    finally:
        archive.close()


def test_non_articles_are_recorded_and_counted_as_skipped(database_url: str) -> None:
    """A page fetched whole that holds no article leaves a recorded reason (issue 20)."""
    crawler = crawler_for(database_url)
    extract = ExtractPipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    for p in (extract, store):
        p.open_spider()
    html = "<html><body><nav>Home</nav></body></html>"
    item = asyncio.run(extract.process_item(page(html=html)))
    assert isinstance(item, FailureItem) and item.kind == "not-article"
    store.process_item(item)
    assert crawler.stats.get_value("newsvault/articles_skipped") == 1
    assert not crawler.stats.get_value("newsvault/errors")
    (failure,) = store.archive.failures()
    assert failure["kind"] == "not-article" and failure["status"] == 200
    store.archive.close()


def test_same_text_under_two_urls_is_one_article_with_an_alias(database_url: str) -> None:
    crawler = crawler_for(database_url)
    extract = ExtractPipeline.from_crawler(crawler)
    dedupe = DedupePipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    for p in (extract, dedupe, store):
        p.open_spider()
    no_canonical = PAGE.replace(
        '<link rel="canonical" href="https://gazette.test/news/dredging.html">', ""
    )
    for url in ("https://gazette.test/a-story", "https://gazette.test/copied-story"):
        store.process_item(
            dedupe.process_item(asyncio.run(extract.process_item(page(url, no_canonical))))
        )
    store.spider_closed(crawler.spider, "finished")
    archive = Archive.open(database_url)
    try:
        assert [a["url"] for a in archive.iter_articles()] == ["https://gazette.test/a-story"]
        with archive.engine.connect() as con:
            from sqlalchemy import text

            aliases = con.execute(text("SELECT url, reason FROM aliases")).fetchall()
        assert ("https://gazette.test/copied-story", "same-text") in aliases
    finally:
        archive.close()


def test_article_record_is_the_article_with_its_text_hashes() -> None:
    art = Article(
        url="https://gazette.test/news/dredging.html?utm_source=rss",
        text=PARA * 5,
        title="Dredging approved",
        authors=("A. Writer",),
        tags=("harbour",),
        language="en",
    )
    rec = article_record("gazette", "https://gazette.test/news/dredging.html", art)
    assert (rec.text_hash, rec.simhash) == text_hashes(art.text) and rec.simhash is not None
    assert (rec.source, rec.url, rec.text, rec.title) == (
        "gazette",
        "https://gazette.test/news/dredging.html",
        art.text,
        "Dredging approved",
    )
    assert (rec.authors, rec.tags, rec.language) == (("A. Writer",), ("harbour",), "en")
    given = article_record("gazette", rec.url, art, ("f" * 64, None))
    assert (given.text_hash, given.simhash) == ("f" * 64, None)  # computed by the worker


def test_fingerprint_ignores_case_punctuation_and_spacing() -> None:
    assert text_fingerprint("Hello,  World!\n\nAgain.") == text_fingerprint("hello world again")
    assert text_fingerprint("Hello world") != text_fingerprint("Hello word")


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://gazette.test/ok", False),
        ("ftp://gazette.test/file", True),
        ("https://elsewhere.test/page", True),
        ("http://127.0.0.1:9/x", True),
        ("http://10.0.0.1/x", True),
        ("http://169.254.169.254/latest/meta-data/", True),
        ("http://localhost/x", True),
        ("http://[::1]/x", True),
    ],
)
def test_safety_middleware_refuses_before_any_connection(url: str, refused: bool) -> None:
    source = Source(
        name="gazette",
        feeds=("https://gazette.test/feed.xml",),
        allowed_domains=(
            "gazette.test",
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "localhost",
            "[::1]",
        ),
    )
    if url.startswith("https://elsewhere"):
        source = Source(name="gazette", feeds=("https://gazette.test/feed.xml",))
    crawler = get_crawler(NewsSpider, {"NEWSVAULT_ALLOW_PRIVATE_NETWORKS": False})
    crawler.spider = crawler._create_spider(source=source)
    mw = SafetyMiddleware.from_crawler(crawler)
    mw._verdicts["gazette.test"] = None  # a public site; no DNS lookup in tests
    if refused:
        with pytest.raises(BlockedRequest):
            mw.process_request(Request(url))
    else:
        assert mw.process_request(Request(url)) is None


def test_safety_middleware_allows_private_networks_when_configured() -> None:
    source = Source(name="local", start_urls=("http://127.0.0.1:8000/",))
    crawler = get_crawler(NewsSpider, {"NEWSVAULT_ALLOW_PRIVATE_NETWORKS": True})
    crawler.spider = crawler._create_spider(source=source)
    mw = SafetyMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("http://127.0.0.1:8000/a")) is None
    with pytest.raises(BlockedRequest, match="outside the source's domains"):
        mw.process_request(Request("http://127.0.0.2:8000/a"))


def test_the_sources_of_one_crawl_write_through_one_archive(database_url: str) -> None:
    """Each source records its own run, through the one archive the crawl process opens; the
    last source to close closes it."""
    stores = [StorePipeline.from_crawler(crawler_for(database_url)) for _ in range(2)]
    for store in stores:
        store.open_spider()
    first, second = stores
    assert first.archive is second.archive and first.run_id != second.run_id
    first.spider_closed(first.crawler.spider, "finished")
    assert second.archive.run(first.run_id)["status"] == "ok", "closing one source closed both"
    second.spider_closed(second.crawler.spider, "finished")
    third = StorePipeline.from_crawler(crawler_for(database_url))
    third.open_spider()
    try:
        assert third.archive is not first.archive, "a later crawl got a closed archive"
        assert [r["status"] for r in third.archive.runs()][-2:] == ["ok", "ok"]
    finally:
        third.spider_closed(third.crawler.spider, "finished")
