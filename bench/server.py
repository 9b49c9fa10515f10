"""A static server for benchmarks that is never the bottleneck: nginx, run as our own child.

nginx (Debian package ``nginx``) runs in the foreground with a generated config: one worker,
``sendfile``, keep-alive, access log off, bound to a loopback address only. When this process is
root it listens on port 80 of a loopback address 127.x.y.z (trafilatura's URL filter refuses
``IP:port``); otherwise on a free port of 127.0.0.1. Without nginx it falls back, with a
warning, to a pre-forked Python server (several processes sharing one socket).
"""

from __future__ import annotations

import http.server
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from functools import partial
from pathlib import Path
from types import TracebackType

__all__ = ["StaticServer"]

_NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/nginx-tmp;
    proxy_temp_path {work}/nginx-tmp;
    fastcgi_temp_path {work}/nginx-tmp;
    uwsgi_temp_path {work}/nginx-tmp;
    scgi_temp_path {work}/nginx-tmp;
    types {{ text/html html; application/xml xml; text/plain txt; application/json json; }}
    default_type application/octet-stream;
    server {{
        listen {host}:{port};
        root {root};
        index index.html;
    }}
}}
"""


def _pick_address() -> tuple[str, int]:
    if os.geteuid() == 0:
        for last in range(2, 250):
            host = f"127.77.0.{last}"
            try:
                with socket.create_connection((host, 80), timeout=0.5):
                    continue  # someone serves there already
            except OSError:
                pass
            try:
                with socket.socket() as s:
                    s.bind((host, 80))
                return host, 80
            except OSError:
                continue
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "127.0.0.1", s.getsockname()[1]


def _serve(sock: socket.socket, root: str) -> None:
    handler = partial(_Quiet, directory=root)
    server = http.server.HTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
    server.socket = sock
    server.serve_forever()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class StaticServer:
    """Serve ``root`` on a loopback address until the ``with`` block ends; ``base`` is its URL."""

    def __init__(self, root: Path, work: Path, *, workers: int = 4) -> None:
        self.root, self.work, self.workers = root.resolve(), work.resolve(), workers
        self.host, self.port = _pick_address()
        self.kind = "nginx"
        self._proc: subprocess.Popen[bytes] | None = None
        self._children: list[multiprocessing.process.BaseProcess] = []

    @property
    def base(self) -> str:
        return f"http://{self.host}" + ("" if self.port == 80 else f":{self.port}")

    def __enter__(self) -> StaticServer:
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
        if nginx:
            # nginx's workers drop to an unprivileged user: the site must be readable to them
            # (a mkdtemp folder is 0700).
            for folder in (self.work, self.root):
                folder.chmod(folder.stat().st_mode | 0o755)
            (self.work / "nginx-tmp").mkdir(exist_ok=True)
            conf = self.work / "nginx.conf"
            conf.write_text(
                _NGINX_CONF.format(work=self.work, host=self.host, port=self.port, root=self.root),
                encoding="utf-8",
            )
            errors = self.work / "nginx-error.log"
            self._proc = subprocess.Popen(
                [nginx, "-p", str(self.work), "-c", str(conf), "-e", str(errors)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            self.kind = f"python ({self.workers} processes)"
            print("WARNING: nginx not found (apt-get install nginx); using a Python server, "
                  "which may limit the figures", file=sys.stderr)
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(512)
            ctx = multiprocessing.get_context("fork")
            for _ in range(self.workers):
                p = ctx.Process(target=_serve, args=(sock, str(self.root)), daemon=True)
                p.start()
                self._children.append(p)
            sock.close()
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until OUR server answers (not another one that took the address first)."""
        token = uuid.uuid4().hex
        (self.root / ".bench-token").write_text(token, encoding="utf-8")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/.bench-token", timeout=2) as resp:
                    if resp.read().decode() == token:
                        return
                raise RuntimeError(f"another server answers at {self.base}")
            except (OSError, urllib.error.HTTPError):
                if self._proc is not None and self._proc.poll() is not None:
                    raise RuntimeError(f"nginx exited; see {self.work}/nginx-error.log") from None
                time.sleep(0.05)
        raise RuntimeError(f"static server did not start on {self.base}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(timeout=10)
        for p in self._children:
            p.terminate()
            p.join(timeout=5)
