"""A small static web server for a folder of pages, on 127.0.0.1 and a free port.

It serves the bundled demo site (``newsvault demo``) and the test suite's sites. ``/a/b/`` maps to
``a/b/index.html``; the token ``__BASE__`` in .html/.xml/.rdf/.txt files is replaced by the
server's base URL (so feeds and sitemaps can hold absolute links); ``X.xml.gz`` is served by
gzipping ``X.xml`` when only that exists. It records every request path it answers.
"""

from __future__ import annotations

import gzip
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

__all__ = ["LocalSite"]

_TEXT = (".html", ".htm", ".xml", ".rdf", ".txt", ".atom")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rdf": "application/rdf+xml",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}


class LocalSite:
    """Serve ``root`` until :meth:`close`. Use as a context manager.

    Example::

        with LocalSite(Path("pipeline/demo_site")) as site:
            print(site.url("/feed.xml"))
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                with site._lock:
                    site.requests.append(self.path)
                found = site.resolve(self.path)
                if found is None:
                    self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
                    return
                body, ctype = found
                self._send(200, body, ctype)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
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

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalSite:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
