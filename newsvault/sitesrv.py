"""A small static web server for a folder of pages, on 127.0.0.1 and a free port.

It serves the bundled demo site (``newsvault demo``) and the test suite's sites. ``/a/b/`` maps to
``a/b/index.html``; the token ``__BASE__`` in .html/.xml/.rdf/.txt files is replaced by the
server's base URL (so feeds and sitemaps can hold absolute links); ``X.xml.gz`` is served by
gzipping ``X.xml`` when only that exists. It records every request path it answers, and in
``answers`` each path with its status and conditional request headers.

Like a real server it sends an ``ETag`` (from the served bytes) and a ``Last-Modified`` (from the
file's modification time) and answers ``304 Not Modified`` to a matching ``If-None-Match`` or,
without one, to an ``If-Modified-Since`` no earlier than the file's time.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

__all__ = ["Answer", "LocalSite"]

_TEXT = (".html", ".htm", ".xml", ".rdf", ".txt", ".atom")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rdf": "application/rdf+xml",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """One request as the server saw it: path, the status sent, the conditional headers."""

    path: str
    status: int
    if_none_match: str | None = None
    if_modified_since: str | None = None


def _not_modified(etag: str, mtime: float, inm: str | None, ims: str | None) -> bool:
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    if ims is not None:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(mtime) <= since
    return False


class LocalSite:
    """Serve ``root`` until :meth:`close`. Use as a context manager.

    Example::

        with LocalSite(Path("newsvault/demo_site")) as site:
            print(site.url("/feed.xml"))
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        self.requests: list[str] = []
        self.answers: list[Answer] = []
        self.clients: set[tuple[str, int]] = set()  # (address, port): one per TCP connection
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                found = site.resolve(self.path)
                status = 404 if found is None else 200
                headers: dict[str, str] = {}
                if found is not None:
                    body, ctype = found
                    mtime = site.mtime(self.path)
                    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                    headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
                    if _not_modified(etag, mtime, inm, ims):
                        status, body = 304, b""
                else:
                    body, ctype = b"<html><body><h1>Not found</h1></body></html>", "text/html"
                with site._lock:
                    site.clients.add(self.client_address[:2])
                    site.requests.append(self.path)
                    site.answers.append(Answer(self.path, status, inm, ims))
                self._send(status, body, ctype, headers)

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def _file(self, rel: str) -> Path | None:
        path = (self.root / rel).resolve()
        if self.root not in path.parents and path != self.root:
            return None
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    def _read(self, path: Path) -> bytes:
        data = path.read_bytes()
        if path.suffix in _TEXT:
            data = data.replace(b"__BASE__", self.base.encode())
        return data

    def resolve(self, raw_path: str) -> tuple[bytes, str] | None:
        """The body and content type served for a request path, or None for a 404."""
        rel = unquote(urlsplit(raw_path).path).lstrip("/")
        path = self._file(rel)
        if path is not None:
            ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
            return self._read(path), ctype or "application/octet-stream"
        if rel.endswith(".gz"):
            plain = self._file(rel[:-3])
            if plain is not None:
                return gzip.compress(self._read(plain), mtime=0), "application/gzip"
        return None

    def mtime(self, raw_path: str) -> float:
        """Modification time of the file behind a request path (0 when there is none)."""
        rel = unquote(urlsplit(raw_path).path).lstrip("/")
        path = self._file(rel) or (self._file(rel[:-3]) if rel.endswith(".gz") else None)
        return path.stat().st_mtime if path is not None else 0.0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalSite:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
