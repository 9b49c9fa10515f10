"""Scrapy settings: nothing that costs CPU or opens a port for nothing (issue 17)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

_PROBE = """
from scrapy.utils.test import get_crawler
from common.config import parse_config
from crawler.settings import scrapy_settings
from crawler.spiders.news import NewsSpider

config = parse_config({"sources": [{"name": "s", "feeds": ["http://x.example/f"]}]})
crawler = get_crawler(NewsSpider, settings_dict=scrapy_settings(config, progress_interval=2))
crawler._apply_settings()
print(sorted(type(e).__name__ for e in crawler.extensions.middlewares))
"""


def test_no_remote_control_server_telnet_or_memory_poller_per_source() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    loaded = out[0]
    for name in ("RemoteControl", "TelnetConsole", "MemoryUsage", "LogStats"):
        assert name not in loaded
    assert "Progress" in loaded and "CoreStats" in loaded  # run counts come from the stats


_IMPORTS = """
import sys
from scrapy.utils.test import get_crawler
from common.config import parse_config
from crawler.settings import scrapy_settings
from crawler.spiders.news import NewsSpider

config = parse_config({"sources": [{"name": "s", "feeds": ["http://x.example/f"]}]})
crawler = get_crawler(NewsSpider, settings_dict=scrapy_settings(config, progress_interval=2))
crawler._apply_settings()
from scrapy.core.downloader.handlers import DownloadHandlers
DownloadHandlers(crawler)
print(" ".join(sorted(sys.modules)))
"""


def test_components_switched_off_are_not_even_imported() -> None:
    # Scrapy imports every component its settings name, switched off or not, to sort them.
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for module in (
        "scrapy.extensions.remote_control",
        "scrapy.extensions.telnet",
        "scrapy.extensions.memusage",
        "scrapy.extensions.feedexport",
        "scrapy.downloadermiddlewares.offsite",
        "scrapy.downloadermiddlewares.httpauth",
        "scrapy.downloadermiddlewares.httpcache",
        "scrapy.core.downloader.handlers.s3",
        "scrapy.core.downloader.handlers.ftp",
    ):
        assert module not in out, module
    assert "scrapy.extensions.corestats" in out
