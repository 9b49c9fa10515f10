"""Pages built by a script: rendered in headless Chromium, for sources with ``render: auto|always``.

Where: on the extraction side, in the crawling process, with Playwright's asyncio API on the
crawl's own asyncio loop (Scrapy runs on Twisted's asyncio reactor). ``auto`` needs the
extraction's verdict first, which only the item pipeline has: :class:`ExtractPipeline` hands a page
whose static HTML is not an article (``auto``), or every article page (``always``), on as a
:class:`RenderItem`, and :class:`RenderPipeline` renders it and extracts the rendered DOM.

How a page is rendered (:class:`Renderer`):

- one browser (Debian's ``chromium``, Playwright's ``executable_path``; Playwright never downloads
  a browser), started when the first page needs it, shared by the run's pages (a fresh context per
  page: no cookies or storage carried over), closed when the spider closes;
- the page's document is answered from the bytes the crawler already fetched (route
  interception): the site is not asked twice, and what is archived as fetched is exactly what the
  browser built from;
- every other request the browser makes passes the crawler's guard
  (:class:`crawler.middlewares.SafetyMiddleware`: http(s) only, the source's domains only, no
  loopback/private/link-local address unless ``crawl.allow_private_networks``) or is aborted;
  images, fonts and media are never loaded;
- a page gets ``crawl.render_timeout`` seconds in all; after its ``load`` event it is given until
  none of its requests has been open for 0.5 s (within that limit), then its DOM is read.

Without Chromium (or Playwright) the run says so once and goes on without rendering.

Example::

    renderer = Renderer("/usr/bin/chromium", timeout=20, guard=guard)
    page = await renderer.render(url, raw_bytes, {"Content-Type": "text/html"})
    await renderer.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from common.config import Source
from common.errors import ExtractionError, NotAnArticle
from common.runs import count
from crawler.items import ArticleItem, FailureItem
from crawler.middlewares import SafetyMiddleware
from pipeline.extract import ExtractOptions, extract_article

__all__ = [
    "BLOCKED_TYPES",
    "RenderItem",
    "RenderPipeline",
    "RenderedPage",
    "Renderer",
    "render_mode",
    "url_guard",
]

log = logging.getLogger(__name__)

#: resource types the browser never loads
BLOCKED_TYPES = frozenset({"image", "font", "media"})
_PAGES_AT_ONCE = 2  # pages rendered at the same time (each a browser tab)
# seconds without an open request after which a loaded page counts as built (as Playwright's
# "networkidle"; 0.2 s read some pages before their scripts had written them on a busy machine)
_QUIET = 0.5

Guard = Callable[[str], Awaitable[str | None]]  # a URL's refusal reason, or None


@dataclass(slots=True)
class RenderItem:
    """A fetched page to render: ``reason`` is why its static HTML was not an article (``auto``),
    or None (``always``)."""

    page: ArticleItem
    opts: ExtractOptions
    reason: str | None = None


@dataclass(slots=True)
class RenderedPage:
    """A rendered page's DOM, and what the browser asked for: ``requests`` the URLs it was let
    fetch, ``refused`` (URL, why) the ones the guard stopped, ``skipped`` how many images, fonts
    and media it did not load."""

    html: str
    requests: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0


def render_mode(source: Source, chromium: str) -> str:
    """The source's ``render`` setting as it can be honoured here: ``never`` (said once, in the
    log) when it asks for rendering and Chromium or Playwright is missing."""
    if source.render == "never":
        return "never"
    missing = None
    if not Path(chromium).exists():
        missing = f"Chromium is not installed at {chromium} (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            missing = "Playwright is not installed (pip install playwright)"
    if missing:
        log.warning(
            "%s: render: %s asked, but %s; going on without rendering",
            source.name,
            source.render,
            missing,
        )
        return "never"
    return source.render


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Renderer:
    """One shared headless Chromium, started on the first :meth:`render`."""

    def __init__(self, chromium: str, *, timeout: float, guard: Guard) -> None:
        self.chromium = chromium
        self.timeout = timeout
        self.guard = guard
        self._pw: Any = None
        self._browser: Any = None
        self._starting = asyncio.Lock()
        self.failed: str | None = None  # why the browser could not start

    async def _start(self) -> Any:
        async with self._starting:
            if self._browser is None and self.failed is None:
                from playwright.async_api import Error, async_playwright

                try:
                    self._pw = await async_playwright().start()
                    self._browser = await self._pw.chromium.launch(
                        executable_path=self.chromium,
                        headless=True,
                        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
                    )
                except (Error, OSError) as exc:
                    self.failed = _first_line(exc)
                    await self._stop_driver()
            return self._browser

    async def render(self, url: str, body: bytes, headers: Mapping[str, str]) -> RenderedPage:
        """The DOM of the page at ``url`` whose fetched bytes are ``body``, after its scripts ran.

        Raises ExtractionError when the browser cannot start or the page does not render within
        the time limit."""
        from playwright.async_api import Error

        browser = await self._start()
        if browser is None:
            raise ExtractionError(f"the browser could not start: {self.failed}")
        result = RenderedPage(html="")
        try:
            context = await browser.new_context(java_script_enabled=True, service_workers="block")
        except Error as exc:
            raise ExtractionError(f"the browser failed: {_first_line(exc)}") from None
        try:
            page = await context.new_page()
            await page.route("**/*", self._router(url, body, headers, result))
            await asyncio.wait_for(self._load(page, url, result), self.timeout)
        except TimeoutError:
            raise ExtractionError(
                f"rendering took longer than {self.timeout:g} s (crawl.render_timeout)"
            ) from None
        except Error as exc:  # the page or the browser broke (a crash, a closed target)
            raise ExtractionError(f"the browser failed on the page: {_first_line(exc)}") from None
        finally:
            with contextlib.suppress(Error):
                await context.close()
        return result

    async def _load(self, page: Any, url: str, result: RenderedPage) -> None:
        from playwright.async_api import Error

        pending = {"n": 0}

        def started(_: Any) -> None:
            pending["n"] += 1

        def ended(_: Any) -> None:
            pending["n"] -= 1

        page.on("request", started)
        page.on("requestfinished", ended)
        page.on("requestfailed", ended)
        deadline = time.monotonic() + self.timeout - 0.2
        try:
            await page.goto(url, wait_until="load", timeout=self.timeout * 1000)
        except Error as exc:
            raise ExtractionError(f"the browser could not load the page: {exc}") from None
        # let the scripts finish what they fetch: done once no request has been open for
        # _QUIET seconds, within the page's limit
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(_QUIET / 4)
            now = time.monotonic()
            if pending["n"] > 0:
                quiet_since = now
            elif now - quiet_since >= _QUIET:
                break
        result.html = await page.content()

    def _router(
        self, url: str, body: bytes, headers: Mapping[str, str], result: RenderedPage
    ) -> Callable[[Any], Awaitable[None]]:
        document = {"served": False}
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "text/html")

        async def route(r: Any) -> None:
            req = r.request
            if not document["served"] and req.is_navigation_request() and req.url == url:
                document["served"] = True  # the page as the crawler fetched it
                await r.fulfill(status=200, body=body, headers={"Content-Type": ctype})
                return
            if req.resource_type in BLOCKED_TYPES:
                result.skipped += 1
                await r.abort("blockedbyclient")
                return
            why = await self.guard(req.url)
            if why is not None:
                result.refused.append((req.url, why))
                await r.abort("blockedbyclient")
                return
            result.requests.append(req.url)
            await r.continue_()

        return route

    async def _stop_driver(self) -> None:
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None

    async def close(self) -> None:
        """Close the browser (if it was started) and Playwright's driver."""
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        await self._stop_driver()


def url_guard(mw: SafetyMiddleware) -> Guard:
    """The crawler's own guard (:class:`crawler.middlewares.SafetyMiddleware`) as a URL check."""
    from scrapy import Request

    from crawler.middlewares import BlockedRequest

    def check(url: str) -> str | None:
        try:
            mw.process_request(Request(url))
        except BlockedRequest as exc:
            return str(exc)
        except ValueError as exc:  # not a URL Scrapy can request
            return str(exc)
        return None

    async def guard(url: str) -> str | None:
        return await asyncio.to_thread(check, url)  # the guard may resolve the host

    return guard


class RenderPipeline:
    """Renders the pages :class:`~pipeline.pipelines.ExtractPipeline` hands on as
    :class:`RenderItem` and extracts their DOM; the page's raw bytes stay what is archived as
    fetched, the DOM is kept beside them (``fetches.rendered_sha256``)."""

    def __init__(self, renderer: Renderer, stats: Any) -> None:
        self.renderer = renderer
        self.stats = stats
        self._slots = asyncio.Semaphore(_PAGES_AT_ONCE)
        self._said_failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderPipeline:
        s = crawler.settings
        renderer = Renderer(
            s.get("NEWSVAULT_CHROMIUM"),
            timeout=s.getfloat("NEWSVAULT_RENDER_TIMEOUT"),
            guard=url_guard(SafetyMiddleware.from_crawler(crawler)),
        )
        return cls(renderer, crawler.stats)

    async def close_spider(self) -> None:
        await self.renderer.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RenderItem):
            return item
        page = item.page
        try:
            async with self._slots:
                rendered = await self.renderer.render(page.url, page.html, page.headers)
        except ExtractionError as exc:
            if self.renderer.failed is None:
                return FailureItem(page.url, page.source, "render", str(exc), page.status)
            return await self._without_browser(item)
        self._count(rendered)
        try:
            article = await asyncio.to_thread(extract_article, rendered.html, page.url, item.opts)
        except NotAnArticle as exc:
            count(self.stats, "articles_skipped")
            raise DropItem(
                f"not an article, rendered: {page.url}: {exc}", log_level="DEBUG"
            ) from None
        except ExtractionError as exc:
            return FailureItem(page.url, page.source, "extraction", str(exc), page.status)
        from pipeline.pipelines import Extracted

        return Extracted(page=page, article=article, rendered=rendered.html.encode("utf-8"))

    async def _without_browser(self, item: RenderItem) -> Any:
        """The browser could not start: say so once; ``auto`` pages stay not-articles,
        ``always`` pages are extracted as fetched."""
        if not self._said_failed:
            self._said_failed = True
            log.warning(
                "the browser could not start (%s); going on without rendering", self.renderer.failed
            )
        page = item.page
        if item.reason is not None:
            count(self.stats, "articles_skipped")
            raise DropItem(f"not an article: {page.url}: {item.reason}", log_level="DEBUG")
        try:
            article = await asyncio.to_thread(extract_article, page.html, page.url, item.opts)
        except NotAnArticle as exc:
            count(self.stats, "articles_skipped")
            raise DropItem(f"not an article: {page.url}: {exc}", log_level="DEBUG") from None
        except ExtractionError as exc:
            return FailureItem(page.url, page.source, "extraction", str(exc), page.status)
        from pipeline.pipelines import Extracted

        return Extracted(page=page, article=article)

    def _count(self, rendered: RenderedPage) -> None:
        self.stats.inc_value("newsvault/render/pages")
        self.stats.inc_value("newsvault/render/requests", len(rendered.requests))
        self.stats.inc_value("newsvault/render/skipped", rendered.skipped)
        if rendered.refused:
            self.stats.inc_value("newsvault/render/refused", len(rendered.refused))
            for url, why in rendered.refused:
                log.warning("render: %s", why if url in why else f"refused {url}: {why}")
