"""The SSRF guard and politeness.

Only addresses on this machine are ever contacted. 10.0.0.1 and 169.254.169.254 appear only as
URLs that must be refused: the guard refuses them before any connection (an IP literal needs no
DNS), which the tests prove by the refusal's reason (a connection attempt would end in a timeout
or connection error instead).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Response
from scrapy.resolver import HostResolution
from scrapy.utils.test import get_crawler
from twisted.internet.address import IPv4Address, IPv6Address

from common.config import parse_config
from crawler.middlewares import (
    BlockedRequest,
    RedirectLoop,
    RedirectLoopMiddleware,
    SafeResolver,
    SafetyMiddleware,
)
from crawler.politeness import MAX_CRAWL_DELAY, CrawlDelayMiddleware
from crawler.settings import scrapy_settings
from tests.conftest import ROOT
from tests.faultsrv import FaultServer, Route, article_html
from tests.services import rows

PRIVATE = [
    "http://127.0.0.1/",
    "http://10.0.0.1/admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost/",  # a name that resolves to loopback
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 written as one decimal number
    "http://0x7f.1/",  # 127.0.0.1 in hex shorthand
    "http://192.168.1.1/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",  # carrier-grade NAT, shared address space
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
]


def _guard(allow_private: bool = False, domains: tuple[str, ...] = ()) -> SafetyMiddleware:
    crawler = get_crawler(settings_dict={"NEWSVAULT_ALLOW_PRIVATE_NETWORKS": allow_private})
    crawler.spider = SimpleNamespace(allowed_domains=list(domains))  # type: ignore[assignment]
    return SafetyMiddleware.from_crawler(crawler)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_loopback_and_link_local_targets_are_refused(url: str) -> None:
    guard = _guard()
    with pytest.raises(BlockedRequest, match="non-public address"):
        guard.process_request(Request(url))
    assert guard.stats.get_value("newsvault/blocked") == 1


@pytest.mark.parametrize("url", PRIVATE)
def test_private_targets_are_allowed_only_when_configured(url: str) -> None:
    assert _guard(allow_private=True).process_request(Request(url)) is None


def test_public_addresses_pass() -> None:
    # IP literals: no DNS lookup, no connection; the guard only classifies them
    for url in ("http://93.184.216.34/news/a", "https://[2606:2800:220:1::]/b"):
        assert _guard().process_request(Request(url)) is None


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "data:,x"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(BlockedRequest, match="is not fetched"):
        _guard(allow_private=True).process_request(Request(url))


def test_other_domains_are_refused_before_any_lookup() -> None:
    guard = _guard(allow_private=True, domains=("news.example",))
    assert guard.process_request(Request("http://www.news.example/a")) is None
    with pytest.raises(BlockedRequest, match="outside the source's domains"):
        guard.process_request(Request("http://evil.example/a"))


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://169.254.169.254/x", "/local"])
def test_a_redirect_passes_through_the_guard_again(target: str) -> None:
    crawler = get_crawler(settings_dict={"NEWSVAULT_ALLOW_PRIVATE_NETWORKS": False})
    crawler.spider = SimpleNamespace(allowed_domains=["93.184.216.34"])  # type: ignore[assignment]
    guard = SafetyMiddleware.from_crawler(crawler)
    redirect = RedirectMiddleware.from_crawler(crawler)
    first = Request("http://93.184.216.34/news/a")
    assert guard.process_request(first) is None
    response = Response(first.url, status=302, headers={"Location": target}, request=first)
    follow = redirect.process_response(first, response)
    assert isinstance(follow, Request) and follow.meta["redirect_urls"] == [first.url]
    if target.startswith("/"):
        assert guard.process_request(follow) is None  # same host, public: followed
    else:
        with pytest.raises(BlockedRequest):
            guard.process_request(follow)


def test_a_redirect_loop_is_caught() -> None:
    mw = RedirectLoopMiddleware()
    a = Request("http://93.184.216.34/a", meta={"redirect_urls": ["http://93.184.216.34/b"]})
    loop = Response(a.url, status=301, headers={"Location": "/b"}, request=a)
    with pytest.raises(RedirectLoop, match="/a -> http://93.184.216.34/b"):
        mw.process_response(a, loop)
    onward = Response(a.url, status=301, headers={"Location": "/c"}, request=a)
    assert mw.process_response(a, onward) is onward


class _Answers:
    """A name resolver (Twisted's IHostnameResolver) that answers every name with ``addrs``."""

    def __init__(self, *addrs: str) -> None:
        self.addrs = addrs

    def resolveHostName(self, receiver: Any, name: str, port: int = 0, *_: Any) -> Any:  # noqa: N802
        receiver.resolutionBegan(HostResolution(name))
        for a in self.addrs:
            receiver.addressResolved((IPv6Address if ":" in a else IPv4Address)("TCP", a, port))
        receiver.resolutionComplete()
        return receiver


class _Received:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802
        pass

    def addressResolved(self, address: Any) -> None:  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.complete = True


def _resolve(name: str, *answers: str, allow: bool = False) -> list[str]:
    crawler = get_crawler(settings_dict={"NEWSVAULT_ALLOW_PRIVATE_NETWORKS": allow})
    resolver = SafeResolver.from_crawler(crawler, SimpleNamespace(nameResolver=_Answers(*answers)))
    got = _Received()
    resolver.resolveHostName(got, name, 80)
    assert got.complete
    return got.addresses


@pytest.mark.parametrize(
    "answers",
    [
        ("127.0.0.1",),
        ("10.0.0.1",),
        ("169.254.169.254",),
        ("::1",),  # AAAA loopback
        ("fd00::1",),  # AAAA unique local (fd00::/8)
        ("fe80::1",),  # AAAA link-local
        ("::ffff:127.0.0.1",),  # IPv4-mapped loopback
        ("93.184.216.34", "fd12:3456::7"),  # a public A with a private AAAA
    ],
)
def test_the_resolver_refuses_a_name_with_any_private_answer_a_or_aaaa(
    answers: tuple[str, ...],
) -> None:
    name = f"rebind-{len(answers)}-{answers[-1].replace(':', '-')}.example"
    assert _resolve(name, *answers) == []
    assert _resolve("allowed-" + name, *answers, allow=True) == list(answers)


def test_the_resolver_passes_public_a_and_aaaa_answers() -> None:
    answers = ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    assert _resolve("public.example", *answers) == list(answers)


def test_the_resolver_is_configured() -> None:
    config = parse_config({"sources": [{"name": "s", "feeds": ["http://x.example/f"]}]})
    assert scrapy_settings(config)["TWISTED_DNS_RESOLVER"] == "crawler.middlewares.SafeResolver"


_RESOLVER_CRAWL = """
import sys
import scrapy
from scrapy.crawler import CrawlerProcess

class Probe(scrapy.Spider):
    name = "probe"
    async def start(self):
        yield scrapy.Request(sys.argv[1], errback=self.failed)
    def parse(self, response):
        print("FETCHED", response.status)
    def failed(self, failure):
        print("FAILED", type(failure.value).__name__, failure.value)

process = CrawlerProcess({
    "TWISTED_DNS_RESOLVER": "crawler.middlewares.SafeResolver",
    "NEWSVAULT_ALLOW_PRIVATE_NETWORKS": sys.argv[2] == "allow",
    "ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False, "LOG_LEVEL": "ERROR",
})
process.crawl(Probe)
process.start()
"""


def test_the_resolver_guards_the_connection_itself(tmp_path: Path) -> None:
    """With the middleware out of the way, the lookup the connection makes still refuses a
    name resolving to loopback: this very server is never contacted."""
    with FaultServer() as srv:
        srv.route("/", Route(200, b"<html>hi</html>"))
        script = tmp_path / "probe.py"
        script.write_text(textwrap.dedent(_RESOLVER_CRAWL))
        url = f"http://localhost:{srv.port}/"

        def probe(allow: str) -> str:
            cmd = [sys.executable, str(script), url, allow]
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
            return done.stdout + done.stderr

        out = probe("refuse")
        assert "FAILED CannotResolveHostError" in out, out
        assert srv.hits == []
        # the control: the same crawl allowed to reach private networks fetches the page
        assert "FETCHED 200" in probe("allow")
        assert len(srv.hits) == 1


@pytest.mark.slow
def test_end_to_end_with_the_guard_on_nothing_private_is_fetched(
    write_config: Any, cli: Any, database_url: str
) -> None:
    with FaultServer() as srv:
        links = "".join(f'<a href="{u}">x</a>' for u in PRIVATE)
        srv.route("/", Route(200, f"<html><body>{links}</body></html>".encode()))
        starts = [
            srv.url("/"),
            f"http://localhost:{srv.port}/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
        ]
        source = {
            "name": "ssrf",
            "start_urls": starts,
            "feeds": [srv.url("/feed.xml")],
            "allowed_domains": ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254"],
        }
        config = write_config([source], allow_private_networks=False, timeout=2)
        proc = cli("crawl", "--config", str(config))
        assert srv.hits == [], "the guard let a request through to this machine"
    assert proc.returncode == 1, proc.stdout + proc.stderr  # every request refused
    failures = dict(rows(database_url, "SELECT url, kind || ': ' || reason FROM failures"))
    for url in [*starts, srv.url("/feed.xml")]:
        assert url in failures, (url, failures)
        assert "-blocked: refused" in failures[url] and "non-public address" in failures[url]


# -- politeness --------------------------------------------------------------------------------


def _delay_mw() -> CrawlDelayMiddleware:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "USER_AGENT": "newsvault/0.1"})
    return CrawlDelayMiddleware.from_crawler(crawler)


def test_robots_crawl_delay_is_read_and_capped() -> None:
    mw = _delay_mw()
    for host, body, expected in (
        ("a.example", b"User-agent: *\nCrawl-delay: 2.5\n", 2.5),
        ("b.example", b"User-agent: newsvault\nCrawl-delay: 4\n\nUser-agent: *\nCrawl-delay: 1", 4),
        ("c.example", b"User-agent: *\nCrawl-delay: 86400\n", MAX_CRAWL_DELAY),
        ("d.example", b"User-agent: *\nDisallow: /private\n", None),
    ):
        req = Request(f"http://{host}/robots.txt")
        mw.process_response(req, Response(req.url, body=body, request=req))
        assert mw.delays.get(host) == expected, host


def test_crawl_delay_sets_the_download_slot() -> None:
    from scrapy.core.downloader import Slot

    mw = _delay_mw()
    slot = Slot(concurrency=4, delay=0.25, jitter=0.5)  # Scrapy's defaults: jittered delay
    downloader = SimpleNamespace(slots={"a.example": slot}, get_slot_key=lambda r: "a.example")
    mw.crawler.engine = SimpleNamespace(downloader=downloader)  # type: ignore[assignment]
    robots = Request("http://a.example/robots.txt")
    body = b"User-agent: *\nCrawl-delay: 3"
    mw.process_response(robots, Response(robots.url, body=body, request=robots))
    mw.process_request(Request("http://a.example/news/1"))
    assert slot.delay == 3 and slot.jitter == 0
    slot.delay = 0.5  # AutoThrottle lowered it: the next request restores the floor
    mw.process_request(Request("http://a.example/news/2"))
    assert slot.delay == 3


def test_no_crawl_delay_middleware_when_robots_are_not_obeyed() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": False}))


@pytest.mark.slow
def test_crawl_delay_spaces_the_requests_of_a_real_crawl(write_config: Any, cli: Any) -> None:
    with FaultServer() as srv:
        srv.route("/robots.txt", Route(200, b"User-agent: *\nCrawl-delay: 1\n"))
        paths = [f"/news/polite-story-{i}" for i in range(4)]
        for p in paths:
            srv.route(p, Route(200, article_html(p).encode()))
        links = "".join(f'<a href="{p}">{p}</a>' for p in paths)
        srv.route("/", Route(200, f"<html><body>{links}</body></html>".encode()))
        source = {"name": "polite", "start_urls": [srv.url("/")], "article_urls": ["/news/"]}
        config = write_config([source], concurrency_per_domain=4)
        proc = cli("crawl", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        times = [h.at for h in srv.hits if h.path.startswith("/news/") or h.path == "/"]
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # a lower bound only: a slow machine makes gaps longer, never shorter
    assert min(gaps) >= 0.9, gaps


def test_user_agent_names_the_tool_and_a_contact() -> None:
    config = parse_config({"sources": [{"name": "s", "feeds": ["http://x.example/f"]}]})
    settings = scrapy_settings(config)
    assert settings["USER_AGENT"].startswith("newsvault/") and "+http" in settings["USER_AGENT"]
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
