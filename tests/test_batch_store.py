"""Batched archive writes: Archive.save_articles, BatchWriter and the Store pipeline's flushes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from common.errors import StorageError
from common.fingerprint import text_fingerprint
from crawler.items import ArticleItem
from pipeline.batch import BatchWriter
from pipeline.extract import ExtractOptions
from pipeline.extract_worker import extract_page
from pipeline.pipelines import Extracted, StorePipeline
from storage.bodies import PackedBody, pack_body
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome
from tests.services import rows

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def pair(n: int, *, bad: bool = False) -> tuple[ArticleRecord, FetchRecord]:
    """An article and its fetch; a ``bad`` one has no text, which the archive refuses."""
    body = f"<html><body><p>article {n}</p></body></html>".encode()
    words = f"the text of article number {n}"
    rec = ArticleRecord(
        source="s",
        url=f"http://example.test/a/{n}",
        text=None if bad else words,  # type: ignore[arg-type]
        text_hash=text_fingerprint(words),
        title=f"Article {n}",
    )
    return rec, FetchRecord(url=rec.url, fetched_at=NOW, status=200, body=body)


def stored_urls(db: str) -> set[str]:
    return {url for (url,) in rows(db, "SELECT url FROM articles")}


@pytest.fixture
def archive(database_url: str) -> Any:
    arch = Archive.open(database_url)
    yield arch
    arch.close()


def test_save_articles_stores_every_article_and_says_what_it_did(
    archive: Any, database_url: str
) -> None:
    run = archive.start_run("s")
    items = [pair(n) for n in range(5)]
    assert archive.save_articles(run, items) == [Outcome.NEW] * 5
    assert stored_urls(database_url) == {rec.url for rec, _ in items}
    again = archive.save_articles(run, [*items[:2], pair(9)])
    assert again == [Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.NEW]
    assert rows(database_url, "SELECT count(*) FROM fetches") == [(8,)]


def test_save_articles_is_all_or_nothing(archive: Any, database_url: str) -> None:
    run = archive.start_run("s")
    bad = pair(2, bad=True)
    with pytest.raises(StorageError):
        archive.save_articles(run, [pair(1), bad, pair(3)])
    assert stored_urls(database_url) == set()


def test_packed_bodies_are_stored_as_computed_by_the_worker(archive: Any) -> None:
    rec, fetch = pair(1)
    digest, zdata = pack_body(fetch.body)
    packed = FetchRecord(
        url=fetch.url, fetched_at=NOW, status=200, body=PackedBody(fetch.body, digest, zdata)
    )
    archive.save_articles(archive.start_run("s"), [(rec, packed)])
    assert archive.raw_body(digest) == fetch.body


def writer_for(archive: Any, size: int, clock: Any = None) -> tuple[BatchWriter, list[Any]]:
    seen: list[Any] = []

    def on_error(rec: ArticleRecord, fetch: FetchRecord, exc: StorageError) -> bool:
        seen.append(("error", rec.url))
        return True

    writer = BatchWriter(
        archive,
        archive.start_run("s"),
        size=size,
        max_age=1.0,
        on_outcome=seen.append,
        on_error=on_error,
        **({"clock": clock} if clock else {}),
    )
    return writer, seen


def test_one_bad_article_does_not_cost_the_others_of_its_batch(
    archive: Any, database_url: str
) -> None:
    writer, seen = writer_for(archive, size=4)
    good = [pair(n) for n in (1, 2, 4)]
    bad = pair(3, bad=True)
    for rec, fetch in (good[0], good[1], bad, good[2]):
        writer.add(rec, fetch)
    assert stored_urls(database_url) == {rec.url for rec, _ in good}
    assert seen.count(Outcome.NEW) == 3
    assert ("error", bad[0].url) in seen
    assert len(writer) == 0


def test_writer_flushes_by_count_and_says_when_a_batch_is_due(
    archive: Any, database_url: str
) -> None:
    now = [100.0]
    writer, seen = writer_for(archive, size=3, clock=lambda: now[0])
    writer.add(*pair(1))
    writer.add(*pair(2))
    assert stored_urls(database_url) == set() and len(writer) == 2
    assert not writer.due()
    now[0] += 1.5
    assert writer.due()
    writer.add(*pair(3))  # the third fills the batch: written at once
    assert len(stored_urls(database_url)) == 3 and seen == [Outcome.NEW] * 3
    assert not writer.due()


def extracted(n: int, html: bytes) -> Extracted:
    page = ArticleItem(
        url=f"http://example.test/a/{n}", source="s", fetched_at=NOW, status=200, html=html
    )
    result = extract_page(html, "utf-8", page.url, _opts())
    return Extracted(
        page=page,
        article=result.article,
        key=page.url,
        fingerprint=result.fingerprint,
        packed_body=(result.body_sha256, result.body_z),
    )


def _opts() -> ExtractOptions:
    return ExtractOptions(min_words=5)


def _html(n: int) -> bytes:
    words = " ".join(f"word{n}x{i}" for i in range(60))
    return f"<html><head><title>T{n}</title></head><body><article><h1>T{n}</h1><p>{words}</p>" \
        f"<p>{words}.</p></article></body></html>".encode()


def test_store_pipeline_writes_in_batches_and_flushes_the_rest_at_close(database_url: str) -> None:
    crawler = get_crawler(
        settings_dict={
            "NEWSVAULT_DATABASE": database_url,
            "NEWSVAULT_TRIGGER": "manual",
            "NEWSVAULT_STORE_BATCH": 3,
            "NEWSVAULT_STORE_FLUSH_SECONDS": 0,
        }
    )
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    items = [extracted(n, _html(n)) for n in range(5)]
    for item in items[:2]:
        assert pipe.process_item(item) is item
    assert stored_urls(database_url) == set()  # two pending, batch of three not full
    pipe.process_item(items[2])
    assert len(stored_urls(database_url)) == 3
    for item in items[3:]:
        pipe.process_item(item)
    assert len(stored_urls(database_url)) == 3
    pipe.close_spider()
    assert stored_urls(database_url) == {i.page.url for i in items}
    assert crawler.stats.get_value("newsvault/articles_new") == 5
    pipe.spider_closed(None, "finished")
    run = Archive.open(database_url, readonly=True)
    try:
        assert run.runs()[0]["articles_new"] == 5
        assert run.raw_body(items[0].packed_body[0]) == items[0].page.html  # type: ignore[index]
    finally:
        run.close()


def test_store_pipeline_flushes_a_batch_that_waited_long_enough(database_url: str) -> None:
    crawler = get_crawler(settings_dict={"NEWSVAULT_DATABASE": database_url})
    pipe = StorePipeline(database_url, "manual", crawler.stats, batch_size=100)
    pipe.open_spider()
    now = [0.0]
    pipe.writer.clock = lambda: now[0]
    pipe.writer.max_age = 1.0
    pipe.process_item(extracted(1, _html(1)))
    pipe.flush_if_due()
    assert stored_urls(database_url) == set()
    now[0] = 2.0
    pipe.flush_if_due()
    assert stored_urls(database_url) == {"http://example.test/a/1"}
    pipe.close_spider()
    pipe.spider_closed(None, "finished")
