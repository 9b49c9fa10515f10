"""Helpers for the tests of using the archive (fixtures are in conftest.py beside this file).

The ``crawled`` fixture serves a copy of the bundled demo site on 127.0.0.1 (made by
:func:`hostile_site`: the harbour-dredging article quotes a ``<script>`` as text and carries a
real inline script, and the feed links one dead page, a recorded failure), crawls it once with
the real CLI in a child process into a SQLite archive and yields a :class:`Crawled`. Tests that
change the archive take ``archive_copy``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from newsvault.demo import DEMO_SITE
from newsvault.sitesrv import LocalSite
from tests.conftest import ROOT
from tests.services import sql

__all__ = [
    "Crawled",
    "HOSTILE_PATH",
    "HOSTILE_QUOTE",
    "add_revisions",
    "sql",
    "hostile_site",
    "write_config",
    "run_cli",
]

HOSTILE_PATH = "/2026/11/harbour-dredging/"
HOSTILE_QUOTE = '<script>window.__pwned = 1; document.title = "pwned"</script>'
_HOSTILE_P = (
    "<p>One reader wrote &lt;script&gt;window.__pwned = 1; document.title = &quot;pwned&quot;"
    "&lt;/script&gt; into the consultation form, the board said, and it was printed as typed."
    "</p>\n"
)
_REAL_SCRIPT = "<script>window.__pwned_raw = 1;</script>\n"


@dataclass(frozen=True)
class Crawled:
    site: LocalSite
    config: Path
    url: str  # the archive's database URL: a SQLite file or a PostgreSQL schema

    @property
    def db(self) -> Path:
        """The SQLite file (tests of SQLite-only behaviour skip on PostgreSQL first)."""
        assert self.url.startswith("sqlite:///"), self.url
        return Path(self.url.removeprefix("sqlite:///"))

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``newsvault ARGS`` in a child process, as the ``cli`` fixture does."""
    return subprocess.run(
        [sys.executable, "-m", "newsvault", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")},
    )


def hostile_site(root: Path) -> None:
    shutil.copytree(DEMO_SITE, root)
    page = root / "2026/11/harbour-dredging/index.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace("<p>The £3.2 million scheme", _HOSTILE_P + "<p>The £3.2 million scheme", 1)
    html = html.replace("</body>", _REAL_SCRIPT + "</body>", 1)
    page.write_text(html, encoding="utf-8")
    feed = root / "feed.xml"
    dead = "<item><title>Gone</title><link>__BASE__/2026/11/gone-missing-story/</link></item>"
    feed.write_text(feed.read_text().replace("</channel>", dead + "</channel>"))


def write_config(path: Path, database: str, site: LocalSite) -> Path:
    data = {
        "database": database,
        "crawl": {"allow_private_networks": True, "download_delay": 0},
        "sources": [
            {
                "name": "gazette",
                "feeds": [site.url("/feed.xml"), site.url("/atom.xml"), site.url("/rss1.rdf")],
                "sitemaps": [site.url("/sitemap_index.xml")],
                "start_urls": [site.url("/")],
            }
        ],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def add_revisions(db: str, url: str) -> int:
    """Give the article at ``url`` an earlier revision, as a re-crawl of an edited page records
    it: revision 1 the older text, revision 2 the current one; returns the article's id."""
    with sql(db) as con:
        art_id, sha, text = con.execute(
            "SELECT id, body_sha256, text FROM articles WHERE url = ?", (url,)
        ).fetchone()
        first = text.replace("second week of January", "spring").replace("£3.2 million", "£2.9m")
        con.execute("DELETE FROM revisions WHERE article_id = ?", (art_id,))
        rows = [
            (art_id, 1, "2026-11-20 08:00:00", "Harbour dredging delayed again", first, sha),
            (art_id, 2, "2026-11-21 08:00:00", "Harbour dredging to begin in January", text, sha),
        ]
        for row in rows:
            con.execute(
                "INSERT INTO revisions (article_id, number, seen_at, title, text, text_hash,"
                " body_sha256, authors, tags) VALUES (?, ?, ?, ?, ?, 'h', ?, '[]', '[]')",
                row,
            )
    return int(art_id)
