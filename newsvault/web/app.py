"""The read-only web view of the archive: a small WSGI app, server-rendered, no JavaScript.

Pages: ``/`` search with filters (and recent articles per source), ``/sources/NAME`` recent
articles, ``/articles/ID`` the reading page, ``/articles/ID/revisions`` and
``/articles/ID/revisions/N`` (inline diff against the revision before), ``/runs`` and
``/runs/ID`` with failures. The same data as JSON under ``/api/...``.

Archived content is untrusted. Templates autoescape everything; links to originals are only
http(s); the raw HTML (``/articles/ID/raw``) is sent as a ``text/plain`` attachment with a
``sandbox`` CSP, never rendered on this origin; every response carries a strict
Content-Security-Policy (no scripts at all), ``nosniff``, ``no-referrer`` and ``DENY`` framing.
Only GET and HEAD are answered. The engine should be read-only (``Archive.open(readonly=True)``).
It is served by waitress (threads, keep-alive, request limits), with one access log line per
request (:class:`AccessLog`).

Example::

    app = ArchiveApp(Archive.open("sqlite:///newsvault.db", readonly=True).engine)
    server = make_server(app, "127.0.0.1", 8080)
    server.serve_forever()
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from sqlalchemy import Engine

from common.dates import utcnow
from common.errors import StorageError
from newsvault.textdiff import inline_diff
from storage import reading, revisions
from storage.search import QuerySyntaxError, SearchQuery, render_marks, search

__all__ = ["CSP", "AccessLog", "ArchiveApp", "WebServer", "make_server"]

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
StartResponse = Callable[..., Any]
_IDS = ("aid", "rid", "num")  # the numeric path parts: ids and revision numbers
log = logging.getLogger(__name__)


class HTTPError(Exception):
    """Raised by a handler to answer with an error page (or JSON error) and this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Response:
    def __init__(
        self,
        body: bytes,
        content_type: str,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.body, self.content_type, self.status = body, content_type, status
        self.headers = headers or []


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _marked(snippet: str) -> Markup:
    """Escape a search snippet, then turn its match marks into <mark> elements."""
    return Markup(render_marks(str(escape(snippet)), "<mark>", "</mark>"))


def safe_href(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL (safe to link to), else None."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


class ArchiveApp:
    """The WSGI application; see the module docstring for its pages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
        self.env.filters["marked"] = _marked
        self.routes: list[tuple[re.Pattern[str], Callable[..., Response]]] = [
            (re.compile(p), h)
            for p, h in (
                (r"/", self.index),
                (r"/search", self.index),
                (r"/sources", self.sources),
                (r"/sources/(?P<name>[^/]+)", self.sources),
                (r"/articles/(?P<aid>\d+)", self.article),
                (r"/articles/(?P<aid>\d+)/raw", self.raw),
                (r"/articles/(?P<aid>\d+)/revisions", self.revision_list),
                (r"/articles/(?P<aid>\d+)/revisions/(?P<num>\d+)", self.revision),
                (r"/runs", self.runs),
                (r"/runs/(?P<rid>\d+)", self.runs),
                (r"/static/style.css", self.style),
            )
        ]

    # -- plumbing ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        api = path.startswith("/api/")
        try:
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, "this archive is read-only")
            resp = self._dispatch(path, parse_qs(environ.get("QUERY_STRING", "")))
        except HTTPError as exc:
            resp = self._error(exc.status, exc.message, api)
        except StorageError as exc:
            resp = self._error(503, str(exc), api)
        except Exception as exc:  # a bug: one line in the log, a plain 500 with the headers
            log.error("%s %s: %s: %s", method, path[:200], type(exc).__name__, exc)
            resp = self._error(500, "internal error", api)
        headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body)))]
        headers += resp.headers or _SECURITY_HEADERS
        if method == "HEAD":
            start_response(f"{resp.status} {_REASONS.get(resp.status, '')}", headers)
            return [b""]
        start_response(f"{resp.status} {_REASONS.get(resp.status, '')}", headers)
        return [resp.body]

    def _dispatch(self, path: str, qs: dict[str, list[str]]) -> Response:
        api = path.startswith("/api/")
        if api:
            path = path[4:]
        for pattern, handler in self.routes:
            m = pattern.fullmatch(path)
            if m:
                args = m.groupdict()
                if any(k in _IDS and len(v) > 18 for k, v in args.items() if v):
                    raise HTTPError(404, "no such page")  # past any database's integers
                return handler(qs, api=api, **args)
        raise HTTPError(404, "no such page")

    def _error(self, status: int, message: str, api: bool) -> Response:
        if api:
            return self._json({"error": message}, status)
        return self._page("error.html", status=status, message=message, http_status=status)

    def _page(self, template: str, http_status: int = 200, **ctx: Any) -> Response:
        body = self.env.get_template(template).render(**ctx).encode("utf-8")
        return Response(body, "text/html; charset=utf-8", http_status)

    def _json(self, data: Any, status: int = 200) -> Response:
        body = json.dumps(_jsonable(data), ensure_ascii=False).encode("utf-8")
        return Response(body, "application/json; charset=utf-8", status)

    # -- handlers ------------------------------------------------------------------------------

    def index(self, qs: dict[str, list[str]], api: bool) -> Response:
        form = {
            k: (qs.get(k) or [""])[0].strip() for k in ("q", "source", "since", "until", "lang")
        }
        sources = reading.source_names(self.engine)
        hits, error = None, None
        if form["q"]:
            try:
                hits = search(self.engine, self._query(form, qs))
            except QuerySyntaxError as exc:
                if api:
                    raise HTTPError(400, str(exc)) from None
                error = str(exc)
        if api:
            if hits is None:
                raise HTTPError(400, "give a query: /api/search?q=WORDS")
            return self._json({"query": form, "hits": [h.as_dict() for h in hits]})
        recent = (
            [(s, reading.recent_articles(self.engine, s, 5)) for s in sources]
            if not form["q"]
            else []
        )
        return self._page(
            "index.html",
            http_status=400 if error else 200,
            form=form,
            sources=sources,
            hits=hits,
            error=error,
            recent=recent,
        )

    def _query(self, form: dict[str, str], qs: dict[str, list[str]]) -> SearchQuery:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(form[name]) if form[name] else None
            except ValueError:
                raise HTTPError(400, f"{name}: not a date (YYYY-MM-DD): {form[name]!r}") from None

        try:
            limit = min(max(int((qs.get("limit") or ["20"])[0]), 1), 200)
        except ValueError:
            raise HTTPError(400, "limit: not a number") from None
        sources = (form["source"],) if form["source"] else ()
        return SearchQuery(
            form["q"], sources, day("since"), day("until"), form["lang"] or None, limit
        )

    def sources(self, qs: dict[str, list[str]], api: bool, name: str | None = None) -> Response:
        names = reading.source_names(self.engine)
        if name is None:
            return (
                self._json({"sources": names})
                if api
                else self._page("sources.html", sources=names, source=None)
            )
        if name not in names:
            raise HTTPError(404, f"no source {name!r} in the archive")
        items = reading.recent_articles(self.engine, name, 50)
        if api:
            return self._json({"source": name, "articles": items})
        return self._page("sources.html", source=name, items=items, sources=names)

    def _article(self, aid: str) -> dict[str, Any]:
        art = reading.lookup_article(self.engine, aid)
        if art is None:
            raise HTTPError(404, f"no article {aid} in the archive")
        return art

    def article(self, qs: dict[str, list[str]], api: bool, aid: str) -> Response:
        art = self._article(aid)
        if api:
            return self._json({**art, "revisions_url": f"/api/articles/{aid}/revisions"})
        from newsvault.web.markdown import markdown_html

        paragraphs = [p for p in re.split(r"\n\s*\n", art["text"]) if p.strip()]
        return self._page(
            "article.html",
            art=art,
            paragraphs=paragraphs,
            markdown=markdown_html(art["markdown"]) if art.get("markdown") else None,
            original=safe_href(art["url"]),
            revision=None,
        )

    def raw(self, qs: dict[str, list[str]], api: bool, aid: str) -> Response:
        art = self._article(aid)
        sha = art.get("body_sha256")
        body = None
        if sha:
            from storage.repository import Archive

            body = Archive(self.engine).raw_body(sha)
        if body is None:
            raise HTTPError(404, "no raw HTML is stored for this article")
        headers = [
            ("Content-Disposition", f'attachment; filename="article-{int(aid)}.html.txt"'),
            ("Content-Security-Policy", "sandbox; default-src 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
        ]
        return Response(body, "text/plain; charset=utf-8", 200, headers)

    def revision_list(self, qs: dict[str, list[str]], api: bool, aid: str) -> Response:
        art = self._article(aid)
        available = revisions.revisions_available(self.engine)
        revs = revisions.list_revisions(self.engine, art["id"])
        fetches = reading.fetches_of(self.engine, art["id"])
        if api:
            return self._json(
                {
                    "article_id": art["id"],
                    "available": available,
                    "revisions": revs,
                    "fetches": fetches,
                }
            )
        return self._page(
            "revisions.html", art=art, available=available, revisions=revs, fetches=fetches
        )

    def revision(self, qs: dict[str, list[str]], api: bool, aid: str, num: str) -> Response:
        art = self._article(aid)
        revs = {r["number"]: r for r in revisions.list_revisions(self.engine, art["id"])}
        rev = revs.get(int(num))
        if rev is None:
            raise HTTPError(404, f"article {aid} has no revision {num}")
        earlier = [n for n in revs if n < rev["number"]]
        prev = revs[max(earlier)] if earlier else None
        segments = inline_diff(prev["text"], rev["text"]) if prev else [("same", rev["text"])]
        if api:
            return self._json(
                {
                    "article_id": art["id"],
                    "revision": rev,
                    "previous": prev["number"] if prev else None,
                    "diff": [{"op": op, "text": t} for op, t in segments],
                }
            )
        return self._page("diff.html", art=art, rev=rev, prev=prev, segments=segments)

    def runs(self, qs: dict[str, list[str]], api: bool, rid: str | None = None) -> Response:
        from storage.repository import Archive

        archive = Archive(self.engine)
        if rid is None:
            runs, failures, run = archive.runs(limit=50), archive.failures(limit=50), None
        else:
            run = reading.run_by_id(self.engine, int(rid))
            if run is None:
                raise HTTPError(404, f"no run {rid}")
            runs = [run]
            failures = archive.failures(run_id=int(rid), limit=500)
        runs, failures = _jsonable(runs), _jsonable(failures)
        if api:
            return self._json({"runs": runs, "failures": failures})
        return self._page("runs.html", run=run, runs=runs, failures=failures)

    def style(self, qs: dict[str, list[str]], api: bool) -> Response:
        return Response((HERE / "static" / "style.css").read_bytes(), "text/css; charset=utf-8")


def _printable(text: str) -> str:
    """``text`` for one log line: control characters and quotes escaped (no log injection)."""
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}" for c in text)


class AccessLog:
    """WSGI middleware: one line per request to ``log`` (Common Log Format, plus the time taken):
    ``127.0.0.1 - - [02/Dec/2026:09:10:11 +0000] "GET /search?q=x HTTP/1.1" 200 5120 0.012s``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], log: logging.Logger) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        status = ["-"]

        def recording(st: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = st.split(" ", 1)[0]
            return start_response(st, headers, *exc)

        sent = 0
        try:
            for chunk in self.app(environ, recording):
                sent += len(chunk)
                yield chunk
        finally:
            target = environ.get("PATH_INFO", "") or "/"
            if environ.get("QUERY_STRING"):
                target += "?" + environ["QUERY_STRING"]
            request = f"{environ.get('REQUEST_METHOD', '-')} {target} "
            request += environ.get("SERVER_PROTOCOL", "-")
            when = utcnow().strftime("%d/%b/%Y:%H:%M:%S +0000")
            self.log.info(
                '%s - - [%s] "%s" %s %d %.3fs',
                environ.get("REMOTE_ADDR", "-"),
                when,
                _printable(request),
                status[0],
                sent,
                time.monotonic() - started,
            )


class WebServer:
    """The web view on waitress (a production WSGI server: a thread pool, HTTP/1.1 keep-alive,
    request size limits), with an access log. Raises OSError when it cannot listen."""

    def __init__(
        self, app: ArchiveApp, host: str, port: int, *, threads: int = 4, log: logging.Logger
    ) -> None:
        from waitress import create_server

        self._server: Any = create_server(
            AccessLog(app, log), host=host, port=port, threads=threads, ident="newsvault"
        )
        self._closed = False
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def server_port(self) -> int:
        return int(self._server.effective_port)

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (from another thread) or Ctrl-C."""
        self._running.set()
        try:
            self._server.run()
        finally:
            self._running.clear()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait for it: the server closes in its own loop's
        thread (closing it from another thread would pull its sockets from under it)."""
        if self._running.is_set():
            self._server.trigger.pull_trigger(self.server_close)
            self._stopped.wait(timeout=30)

    def server_close(self) -> None:
        if not self._closed:
            self._closed = True
            self._server.close()


def make_server(
    app: ArchiveApp, host: str, port: int, access_log: logging.Logger | None = None
) -> WebServer:
    """The server for ``app`` (port 0: a free port; see ``server.server_port``); one access log
    line per request to ``access_log`` (default: the ``newsvault.access`` logger)."""
    return WebServer(app, host, port, log=access_log or logging.getLogger("newsvault.access"))
