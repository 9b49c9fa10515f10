"""Error answers of the web view (issue 20): huge ids are 404, every error carries the security
headers, and a bug answers a plain 500 with one log line, never a traceback."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from newsvault.web.app import CSP, ArchiveApp, make_server
from storage.repository import Archive

HUGE = "99999999999999999999"


@pytest.fixture
def app_url(database_url: str) -> Iterator[tuple[str, ArchiveApp]]:
    Archive.open(database_url).close()
    archive = Archive.open(database_url, readonly=True)
    app = ArchiveApp(archive.engine)
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    server.server_close()
    archive.close()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.parametrize(
    "path",
    [
        f"/articles/{HUGE}",
        f"/api/articles/{HUGE}",
        f"/runs/{HUGE}",
        f"/api/runs/{HUGE}",
        f"/articles/{HUGE}/revisions",
        f"/articles/1/revisions/{HUGE}",
        f"/articles/{HUGE}/raw",
    ],
)
def test_huge_numbers_are_not_found(
    app_url: tuple[str, ArchiveApp], path: str, capfd: pytest.CaptureFixture[str]
) -> None:
    status, headers, _ = _get(app_url[0] + path)
    assert status == 404
    assert headers.get("Content-Security-Policy") == CSP
    assert "Traceback" not in capfd.readouterr().err


def test_a_bug_answers_500_with_the_headers_and_one_log_line(
    app_url: tuple[str, ArchiveApp],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    base, app = app_url

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app, "routes", [(p, broken) for p, _ in app.routes])
    for path in ("/runs", "/api/runs"):
        status, headers, body = _get(base + path)
        assert status == 500 and headers.get("X-Content-Type-Options") == "nosniff"
        assert b"boom" not in body
    assert "Traceback" not in capfd.readouterr().err
    assert any("RuntimeError: boom" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)
