"""A fault-injecting web server on 127.0.0.1 (a free port), for robustness tests.

Every path is a :class:`Route`: a plain response (status, headers, body), or a behaviour that
misbehaves at the socket level (never answer, trickle a byte a second, cut the body short,
reset the connection). It records every request it receives (time, path, Host header), so
tests can prove that something was *never* fetched.

Example::

    with FaultServer() as srv:
        srv.route("/a", Route(200, b"<html>...</html>"))
        srv.route("/slow", Route(behaviour="hang"))
        print(srv.url("/a"))
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["FaultServer", "Hit", "Route", "gzip_bomb", "held_port"]


@dataclass(frozen=True)
class Hit:
    at: float
    path: str
    host: str


@dataclass
class Route:
    """What a path answers. ``behaviour``: "" (a plain response), "hang" (never answers),
    "trickle" (one byte a second), "cut" (Content-Length larger than the body), "reset"
    (TCP RST before any answer). ``then``: the route used from the second request on.
    ``delay``: seconds to wait before answering (a slow but healthy server)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    behaviour: str = ""
    then: Route | None = None
    delay: float = 0.0


def gzip_bomb(decompressed: int, chunk: int = 1 << 20) -> bytes:
    """A gzip stream of ``decompressed`` zero bytes (about a thousandth of that compressed)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    parts = [comp.compress(zeros) for _ in range(decompressed // chunk)]
    parts.append(comp.flush())
    return b"".join(parts)


@contextmanager
def held_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens, held for the ``with`` block: bound by a socket
    that never listens, so a connection is refused and no other process can take the port (a
    port that was merely released can be taken by anyone, and then it answers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


class FaultServer:
    """Serve :class:`Route` s on 127.0.0.1 until :meth:`close`. Use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                route = srv._record(self.path, self.headers.get("Host", ""))
                srv._serve(self, route)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    # -- set-up and inspection -----------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.hits if h.path == path)

    def paths(self) -> list[str]:
        with self._lock:
            return [h.path for h in self.hits]

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- serving -------------------------------------------------------------------------------

    def _record(self, path: str, host: str) -> Route:
        with self._lock:
            self.hits.append(Hit(time.monotonic(), path, host))
            n = self._seen[path] = self._seen.get(path, 0) + 1
        route = self.routes.get(path) or Route(404, b"<html><body>Not found</body></html>")
        if n > 1 and route.then is not None:
            route = route.then
        return route

    def _serve(self, h: BaseHTTPRequestHandler, route: Route) -> None:
        try:
            for step in self._steps(h, route):
                step()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up: that is the point of several routes
        h.close_connection = True

    def _steps(self, h: BaseHTTPRequestHandler, route: Route) -> Iterator[Callable[[], None]]:
        b = route.behaviour
        if route.delay:
            yield lambda: self._stop.wait(route.delay) and None
        if b == "hang":
            yield lambda: self._stop.wait(120)
            return
        if b == "reset":
            linger = struct.pack("ii", 1, 0)
            yield lambda: h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            yield h.connection.close
            return
        h.send_response(route.status)
        for k, v in route.headers.items():
            h.send_header(k, v)
        declared = len(route.body) * (4 if b == "cut" else 1) + (1000 if b == "cut" else 0)
        if "Content-Length" not in route.headers:
            h.send_header("Content-Length", str(declared))
        h.send_header("Connection", "close")
        yield h.end_headers
        if b == "trickle":
            for byte in route.body:
                yield lambda byte=byte: self._trickle(h, byte)
            return
        yield lambda: h.wfile.write(route.body)
        yield h.wfile.flush

    def _trickle(self, h: BaseHTTPRequestHandler, byte: int) -> None:
        if self._stop.wait(1.0):
            raise BrokenPipeError
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


# -- the fault site: every case of issue 6 under one source ---------------------------------------

LOREM = (
    "The harbour board met on Tuesday evening to discuss the winter timetable for the ferry. "
    "Members agreed that the early crossing will continue until the end of March, and that "
    "the late boat will be replaced by a bus on stormy nights when the sea is too rough."
)

#: Exact sentences in each encoding; each must come back from the archive as this text.
ENCODED: dict[str, tuple[str, str, str]] = {
    # path: (codec of the body, Content-Type header, sentence)
    "/news/cafe-cp1252": (
        "cp1252",
        "text/html; charset=windows-1252",
        "Café owners’ “fair” prices – €5 for a crème brûlée.",
    ),
    "/news/polish-8859-2": (
        "iso-8859-2",
        "text/html; charset=iso-8859-2",
        "Zażółć gęślą jaźń, powiedział żeglarz w Gdańsku.",
    ),
    "/news/greek-8859-7-meta": (
        "iso-8859-7",
        "text/html",  # no charset in the header: only <meta charset> says it
        "Το λιμάνι του Πειραιά άνοιξε ξανά σήμερα το πρωί.",
    ),
    "/news/tokyo-shift-jis": (
        "shift_jis",
        "text/html",
        "東京の港で新しい船が進水しました。",
    ),
    "/news/shanghai-gb18030": (
        "gb18030",
        "text/html; charset=gb18030",
        "上海港口今天迎来了第一艘新船。",
    ),
    "/news/utf8-wrong-header": (
        "utf-8",
        "text/html; charset=iso-8859-1",  # the server lies
        "Müller’s naïve café served piña colada to the façade painters.",
    ),
    "/news/utf8-no-charset": (
        "utf-8",
        "text/html",
        "Smørrebrød and æbleskiver were sold on the quay in Århus.",
    ),
    "/news/utf8-bom": (
        "utf-8-sig",
        "text/html; charset=windows-1252",  # the BOM wins
        "Ελληνικά, русский and español share one page: ¿qué tal?",
    ),
}


ROBOTS = b"User-agent: *\nAllow: /\n"


_WORDS = (
    "harbour council ferry winter storm lifeboat market school budget quay tide fishermen "
    "island bridge mayor festival road repairs volunteers station report museum library "
    "plan vote residents shop bakery train bus weather flood beach cliff garden church"
).split()


def _prose(seed: str, words: int = 60) -> str:
    """A paragraph of its own for each page, so that pages are not near-duplicates of each
    other (the archive folds near-duplicate texts into one article)."""
    import random

    rng = random.Random(seed)
    out = [rng.choice(_WORDS) for _ in range(words)]
    return " ".join(out).capitalize() + "."


def article_html(title: str, sentence: str = "", meta_charset: str = "") -> str:
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    extra = f"<p>{sentence}</p>" if sentence else ""
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>"
        f"<header><nav><a href='/'>Home</a></nav></header><article><h1>{title}</h1>"
        f"<p>{LOREM}</p>{extra}<p>{_prose(title)}</p>"
        f"<p>{LOREM.replace('Tuesday', 'Thursday')} {title}.</p>"
        "</article><footer>The Fault Gazette</footer></body></html>"
    )


def _html(status: int, body: bytes | str, ctype: str = "text/html; charset=utf-8") -> Route:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Route(status, data, {"Content-Type": ctype})


def _xml(body: str) -> Route:
    return Route(200, body.encode("utf-8"), {"Content-Type": "application/xml"})


def _rss(base: str, paths: list[str], head: str = "") -> str:
    items = "".join(
        f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in paths
    )
    return (
        f'<?xml version="1.0"?>{head}<rss version="2.0"><channel><title>F</title>{items}'
        "</channel></rss>"
    )


def _urlset(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>"
    )


def install_fault_site(srv: FaultServer, *, max_page_bytes: int, refused_port: int) -> None:
    """Route every case of issue 6 on ``srv``: good articles, bad pages, hostile feeds."""
    base = srv.base
    good = [f"/news/good-{i}" for i in range(1, 4)]
    for i, path in enumerate(good, 1):
        srv.route(path, _html(200, article_html(f"Good story number {i}")))
    for path, (codec, ctype, sentence) in ENCODED.items():
        meta = {"iso-8859-7": "iso-8859-7", "shift_jis": "Shift_JIS"}.get(codec, "")
        page = article_html(f"Encoded page {path.rsplit('/', 1)[-1]}", sentence, meta)
        srv.route(path, Route(200, page.encode(codec), {"Content-Type": ctype}))
    srv.route("/robots.txt", Route(200, ROBOTS, {"Content-Type": "text/plain"}))

    # HTTP errors
    srv.route("/news/gone-404", _html(404, "<html><body>Not here</body></html>"))
    srv.route("/news/gone-410", _html(410, "<html><body>Gone for good</body></html>"))
    srv.route("/news/error-500", _html(500, "<html><body>Internal error</body></html>"))
    busy = Route(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "1"})
    busy.then = _html(200, article_html("Busy story finally served"))
    srv.route("/news/busy-429", busy)
    srv.route(
        "/news/down-503",
        Route(503, b"maintenance", {"Content-Type": "text/plain", "Retry-After": "3600"}),
    )
    # the network misbehaving
    srv.route("/news/hang", Route(behaviour="hang"))
    srv.route("/news/trickle", Route(200, article_html("Trickle").encode(), behaviour="trickle"))
    srv.route("/news/cut-short", Route(200, article_html("Cut").encode(), behaviour="cut"))
    srv.route("/news/reset", Route(behaviour="reset"))
    srv.route("/news/empty", _html(200, b""))
    # redirects
    for a, b in (("/news/loop-a", "/news/loop-b"), ("/news/loop-b", "/news/loop-a")):
        srv.route(a, Route(302, b"", {"Location": b}))
    srv.route("/news/loop-self", Route(301, b"", {"Location": "/news/loop-self"}))
    srv.route(
        "/news/moved-away",  # another domain: localhost is this very server, never asked
        Route(302, b"", {"Location": f"http://localhost:{srv.port}/news/good-1"}),
    )
    srv.route(
        "/news/to-metadata",
        Route(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}),
    )
    srv.route("/news/moved-ok", Route(301, b"", {"Location": "/news/good-3"}))
    # not HTML
    for path, magic, ctype in (
        ("/news/report-pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
        ("/news/photo-jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        ("/news/clip-video", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    ):
        srv.route(path, Route(200, magic + bytes(500), {"Content-Type": ctype}))
    # size
    big = ("<p>" + "word " * 200 + "</p>") * (max_page_bytes // 1000 * 2)
    srv.route("/news/huge", _html(200, f"<html><body>{big}</body></html>"))
    gzipped = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    srv.route("/news/gzip-bomb", Route(200, gzip_bomb(max_page_bytes * 50), gzipped))
    # broken HTML
    unclosed = article_html("Unclosed tags story").replace("</p>", "").replace("</article>", "")
    srv.route("/news/unclosed", _html(200, unclosed.replace("</body></html>", "<div><span><b>")))
    nested = "<div>" * 50_000 + LOREM + "</div>" * 10
    srv.route("/news/nested", _html(200, f"<html><body>{nested}</body></html>"))
    srv.route("/news/comment-only", _html(200, "<!-- nothing but a comment -->"))
    junk = bytes((i * 7919 + 13) % 256 for i in range(20_000))
    srv.route("/news/binary-junk", Route(200, junk, {"Content-Type": "text/html"}))

    bad = [
        "/news/gone-404", "/news/gone-410", "/news/error-500", "/news/busy-429",
        "/news/down-503", "/news/hang", "/news/trickle", "/news/cut-short", "/news/reset",
        "/news/empty", "/news/loop-a", "/news/loop-self", "/news/moved-away",
        "/news/to-metadata", "/news/moved-ok", "/news/report-pdf", "/news/photo-jpg",
        "/news/clip-video", "/news/huge", "/news/gzip-bomb", "/news/unclosed", "/news/nested",
        "/news/comment-only", "/news/binary-junk",
    ]
    feed = _rss(base, [*good, *ENCODED, *bad])
    feed = feed.replace(
        "</channel>",
        f"<item><title>r</title><link>http://127.0.0.1:{refused_port}/news/refused</link></item>"
        "</channel>",
    )
    srv.route("/feed.xml", _xml(feed))

    # hostile and broken feeds
    laughs = (
        '<!DOCTYPE rss [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )
    laughs_feed = _rss(base, ["/news/good-1"], laughs).replace("<title>F<", "<title>&lol9;<")
    srv.route("/feeds/laughs.xml", _xml(laughs_feed))
    xxe = (
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{base}/secret/xxe">'
        f'<!ENTITY % remote SYSTEM "{base}/secret/param.dtd"> %remote;]>'
    )
    xxe_feed = _rss(base, ["/news/good-2"], xxe).replace("<title>F<", "<title>&xxe;<")
    srv.route("/feeds/xxe.xml", _xml(xxe_feed))
    ext_dtd = f'<!DOCTYPE rss SYSTEM "{base}/secret/external.dtd">'
    srv.route("/feeds/external-dtd.xml", _xml(_rss(base, ["/news/good-3"], ext_dtd)))
    srv.route("/feeds/truncated.xml", _xml(_rss(base, good)[:-60]))
    srv.route("/feeds/empty.xml", _xml(""))
    srv.route("/feeds/html.xml", _html(200, "<html><body><h1>Feed moved</h1></body></html>"))
    garbage = Route(200, bytes(range(256)) * 4, {"Content-Type": "application/xml"})
    srv.route("/feeds/garbage.xml", garbage)
    # over max_page_bytes, not over the feeds' own cap: read whole (its links are not articles)
    enormous = _rss(base, [f"/elsewhere/x-{i}" for i in range(max_page_bytes // 40)])
    srv.route("/feeds/enormous.xml", _xml(enormous))

    srv.route(
        "/sitemaps/self-index.xml",
        _xml(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sitemaps/self-index.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemaps/urls.xml</loc></sitemap></sitemapindex>"
        ),
    )
    srv.route("/sitemaps/urls.xml", _xml(_urlset(base, good)))
    xxe_map = _urlset(base, good).replace(
        '<?xml version="1.0"?>',
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "{base}/secret/sitemap-xxe">]>',
    )
    xxe_map = xxe_map.replace("</urlset>", "<url><loc>&x;</loc></url></urlset>")
    srv.route("/sitemaps/xxe.xml", _xml(xxe_map))
    srv.route("/sitemaps/html.xml", _html(200, "<html><body>Not a sitemap</body></html>"))
    gz = {"Content-Type": "application/gzip"}
    # past the sitemaps' own cap (50 MB, crawler.feeds.MAX_LISTING_BYTES), whatever the page cap
    srv.route("/sitemaps/bomb.xml.gz", Route(200, gzip_bomb(64 << 20), gz))


def install_news_site(srv: FaultServer, n: int, *, delay: float = 0.0) -> list[str]:
    """A healthy site: ``n`` articles listed in /feed.xml, each answered after ``delay`` s."""
    paths = [f"/news/story-{i}" for i in range(n)]
    for i, path in enumerate(paths):
        page = article_html(f"Story {i} of the day", f"This is story number {i} of {n}.")
        srv.route(path, Route(200, page.encode(), {"Content-Type": "text/html"}, delay=delay))
    srv.route("/feed.xml", _xml(_rss(srv.base, paths)))
    srv.route("/robots.txt", Route(200, ROBOTS, {"Content-Type": "text/plain"}))
    return paths


FAULT_FEEDS = [
    "/feed.xml",
    "/feeds/laughs.xml",
    "/feeds/xxe.xml",
    "/feeds/external-dtd.xml",
    "/feeds/truncated.xml",
    "/feeds/empty.xml",
    "/feeds/html.xml",
    "/feeds/garbage.xml",
    "/feeds/enormous.xml",
]
FAULT_SITEMAPS = [
    "/sitemaps/self-index.xml",
    "/sitemaps/xxe.xml",
    "/sitemaps/html.xml",
    "/sitemaps/bomb.xml.gz",
]
