"""Per-page extraction time limit (ExtractPipeline); page encoding is tested in test_decode.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, FailureItem
from pipeline.pipelines import Extracted, ExtractPipeline, within_limit
from tests.conftest import ROOT
from tests.faultsrv import LOREM, article_html


def _item(html: str, path: str) -> ArticleItem:
    return ArticleItem(
        url=f"http://a.example{path}",
        source="a",
        fetched_at=datetime.now(UTC),
        status=200,
        html=html.encode(),
        encoding="utf-8",
    )


def _pipeline(timeout: float) -> ExtractPipeline:
    crawler = get_crawler(
        settings_dict={"NEWSVAULT_EXTRACT_WORKERS": 1, "NEWSVAULT_EXTRACT_TIMEOUT": timeout}
    )
    pipe = ExtractPipeline.from_crawler(crawler)
    pipe.open_spider()
    return pipe


def test_a_page_over_the_time_limit_fails_alone_and_its_worker_is_replaced() -> None:
    # about 1.5 s of extraction (more on a slow machine) against a 0.05 s limit
    slow = "<html><body><article>" + "".join(f"<p>{LOREM} {i}</p>" for i in range(5000))
    pipe = _pipeline(timeout=0.05)
    try:

        async def run() -> tuple[object, object]:
            first = await pipe.process_item(_item(slow, "/news/slow"))
            pipe.timeout = 120  # the limit is the only thing that changes
            second = await pipe.process_item(_item(article_html("Next story"), "/news/next"))
            return first, second

        old_pool = pipe.pool
        old_pids = list(getattr(old_pool, "_processes", {}))
        first, second = asyncio.run(run())
        assert isinstance(first, FailureItem)
        assert first.kind == "extraction" and "crawl.extract_timeout" in first.reason
        assert first.url == "http://a.example/news/slow"
        assert pipe.pool is not old_pool, "the stuck worker's pool was not replaced"
        assert pipe.stats.get_value("newsvault/extract_pool_restarts") == 1
        for pid in old_pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)  # reaped: the stuck worker is gone
        assert isinstance(second, Extracted), second
        assert second.article.title == "Next story" and second.article.text
    finally:
        pipe.close_spider()


def test_without_a_limit_the_page_is_extracted() -> None:
    pipe = _pipeline(timeout=0)
    try:
        out = asyncio.run(pipe.process_item(_item(article_html("Calm story"), "/news/calm")))
    finally:
        pipe.close_spider()
    assert isinstance(out, Extracted)


def test_the_limit_counts_from_when_a_worker_starts_the_page_not_from_queueing() -> None:
    """A page still waiting for a worker (its start slot 0.0) is never timed out; one that a
    worker started longer ago than the limit is."""
    async def queued_then_done() -> object:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[object] = loop.create_future()
        loop.call_later(0.3, result.set_result, "extracted")  # 6x the limit, all of it queued
        return await within_limit(result, [0.0], 0, 0.05)  # type: ignore[arg-type]

    assert asyncio.run(queued_then_done()) == "extracted"

    async def started_long_ago() -> object:
        result: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        starts = [time.monotonic() - 1.0]
        return await within_limit(result, starts, 0, 0.05)  # type: ignore[arg-type]

    with pytest.raises(TimeoutError):
        asyncio.run(started_long_ago())


def test_pages_queued_behind_a_stuck_page_are_extracted() -> None:
    """Two pages per worker are in flight; when the first is over the limit and its worker is
    killed, the page that waited behind it is extracted on the fresh pool."""
    slow = "<html><body><article>" + "".join(f"<p>{LOREM} {i}</p>" for i in range(5000))
    pipe = _pipeline(timeout=0.3)
    try:

        async def run() -> list[object]:
            return list(
                await asyncio.gather(
                    pipe.process_item(_item(slow, "/news/slow")),
                    pipe.process_item(_item(article_html("Queued story"), "/news/queued")),
                )
            )

        first, second = asyncio.run(run())
    finally:
        pipe.close_spider()
    assert isinstance(first, FailureItem) and "crawl.extract_timeout" in first.reason
    assert isinstance(second, Extracted), second
    assert second.article.title == "Queued story"


def test_the_sources_of_one_crawl_share_one_extraction_pool() -> None:
    """Every source's pipeline extracts in the same workers; the last one to close stops them."""
    first, second = _pipeline(timeout=0), _pipeline(timeout=0)
    try:
        assert first.shared is second.shared and first.pool is second.pool
        pool = first.pool
        assert pool is not None
        out = asyncio.run(second.process_item(_item(article_html("Shared story"), "/news/s")))
        assert isinstance(out, Extracted)
        pids = list(getattr(pool, "_processes", {}))
        assert len(pids) == 1  # NEWSVAULT_EXTRACT_WORKERS, not one set per source
        first.close_spider()
        out = asyncio.run(second.process_item(_item(article_html("Still open"), "/news/t")))
        assert isinstance(out, Extracted), "closing one source stopped the others' pool"
    finally:
        first.close_spider()
        second.close_spider()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the last source closed: the workers are gone
    third = _pipeline(timeout=0)
    try:
        assert third.pool is not pool, "a later crawl got a shut-down pool"
    finally:
        third.close_spider()


def test_a_crawl_that_extracts_nothing_starts_no_process() -> None:
    # a crawl of known pages only (all 304 / not due): no forkserver, no resource tracker
    code = (
        "import os, pathlib\n"
        "from pipeline.pipelines import acquire_pool\n"
        "pool = acquire_pool(2)\n"
        "pool.release()\n"
        "me = str(os.getpid())\n"
        "kids = [p for p in pathlib.Path('/proc').iterdir() if p.name.isdigit()\n"
        "        and (p / 'stat').exists()\n"
        "        and (p / 'stat').read_text().rsplit(')', 1)[1].split()[1] == me]\n"
        "print(len(kids))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"
