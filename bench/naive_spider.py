"""The baseline: a naive single-process Scrapy spider, as people write it.

It reads a sitemap (index), calls ``trafilatura.extract`` in its callback, on the reactor thread,
and writes one row per article to SQLite, committing each row. Extraction uses the same options
as newsvault (precision, no comments, metadata) so the comparison measures the pipeline, not the
options.

Example::

    python bench/naive_spider.py --sitemap http://127.0.0.1:8080/sitemap_index.xml --db naive.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

import scrapy
import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider


class NaiveSpider(SitemapSpider):
    name = "naive"

    def __init__(self, sitemap: str, db: str, **kwargs: Any) -> None:
        self.sitemap_urls = [sitemap]
        super().__init__(**kwargs)
        self.conn = sqlite3.connect(db)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, text TEXT)"
        )

    def parse(self, response: scrapy.http.Response) -> None:
        doc = trafilatura.extract(
            response.text,
            url=response.url,
            output_format="json",
            with_metadata=True,
            favor_precision=True,
            include_comments=False,
        )
        if doc:
            data = json.loads(doc)
            self.conn.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?)",
                (response.url, data.get("title"), data.get("text")),
            )
            self.conn.commit()

    def closed(self, reason: str) -> None:
        self.conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="naive Scrapy + trafilatura baseline")
    ap.add_argument("--sitemap", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--concurrency", type=int, default=16, help="requests per domain")
    args = ap.parse_args(argv)
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS": 32,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    process.crawl(NaiveSpider, sitemap=args.sitemap, db=args.db)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
