"""WARC round trip: export a crawled archive, check it with warcio, read the same pages back."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.archive.helpers import Crawled, run_cli, sql

pytestmark = pytest.mark.slow


def _warcio(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from warcio.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


@pytest.mark.parametrize("name", ["archive.warc.gz", "archive.warc"])
def test_warc_export_passes_warcio_check_and_replays_the_archived_pages(
    crawled: Crawled, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    proc = run_cli("export", "--config", str(crawled.config), "--format", "warc", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    check = _warcio("check", "-v", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") >= 25 and "fail" not in check.stdout

    with sql(crawled.url) as con:
        stored = {
            url: (fetched_at, status, zlib.decompress(z))
            for url, fetched_at, status, z in con.execute(
                "SELECT f.url, f.fetched_at, f.status, b.zdata FROM fetches f"
                " JOIN bodies b ON b.sha256 = f.body_sha256"
            )
        }
    responses, requests, types, articles = {}, set(), [], {}
    with out.open("rb") as f:
        for rec in ArchiveIterator(f):
            types.append(rec.rec_type)
            uri = rec.rec_headers.get_header("WARC-Target-URI")
            if rec.rec_type == "response":
                date = rec.rec_headers.get_header("WARC-Date")
                responses[uri] = (date, rec.http_headers, rec.content_stream().read())
            elif rec.rec_type == "request":
                requests.add(uri)
                assert rec.http_headers.protocol == "GET"
            elif rec.rec_type == "metadata":
                meta = json.loads(rec.content_stream().read())
                assert meta["source"] == "gazette"
                articles[uri] = meta["article_url"]
    assert types[0] == "warcinfo"
    assert set(responses) == set(stored) == requests == set(articles)
    assert articles[crawled.site.url("/2026/11/harbour-dredging/")].endswith("harbour-dredging/")
    assert len(stored) == 12
    for url, (date, http, body) in responses.items():
        fetched_at, status, raw = stored[url]
        assert body == raw, url
        assert http.get_statuscode() == str(status)
        assert http.get_header("Content-Type", "").startswith("text/html")
        if not isinstance(fetched_at, datetime):  # SQLite hands back text
            fetched_at = datetime.fromisoformat(fetched_at)
        when = fetched_at
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        assert datetime.fromisoformat(date.replace("Z", "+00:00")) == when
    # and what was archived is what the site serves: the same pages come back out
    for url, (_, _, body) in responses.items():
        with urllib.request.urlopen(url) as resp:
            assert resp.read() == body, url


def test_warc_export_by_source_and_date(crawled: Crawled, tmp_path: Path) -> None:
    out = tmp_path / "week.warc.gz"
    args = ("--since", "2026-11-20", "--until", "2026-11-21", "-o", str(out))
    proc = run_cli("export", "--config", str(crawled.config), "--format", "warc", *args)
    assert proc.returncode == 0, proc.stderr
    with out.open("rb") as f:
        uris = {
            r.rec_headers.get_header("WARC-Target-URI")
            for r in ArchiveIterator(f)
            if r.rec_type == "response"
        }
    assert uris == {
        crawled.site.url("/2026/11/harbour-dredging/"),
        crawled.site.url("/2026/11/lifeboat-volunteers/"),
    }


def test_warc_to_stdout_is_a_gzipped_stream(crawled: Crawled) -> None:
    import io

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsvault",
            "export",
            "--config",
            str(crawled.config),
            "--format",
            "warc",
        ],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout[:2] == b"\x1f\x8b"
    kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(proc.stdout))]
    assert kinds.count("response") == kinds.count("request") == 12
