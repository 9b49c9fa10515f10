"""The revision diff page of a long article rewritten in full: time and CPU per view.

Builds an archive (SQLite, in a temp folder) holding one article of N words in two revisions,
the second a full rewrite (other words, same paragraph shape), serves it with
``newsvault serve`` in a child process, and times ``GET /articles/ID/revisions/2`` (median of
``--repeat`` views) with the server process's CPU and RSS read from ``/proc``. As a baseline
measured in the same run, it times the alignment the diff used before (one ``difflib`` pass over
all the words of both texts, quadratic) on the same texts, in this process, up to
``--baseline-max`` words (at 8,000 words it takes about 17 s).

Usage::

    .venv/bin/python bench/diff_page.py                       # 1,000 .. 8,000 words
    .venv/bin/python bench/diff_page.py --words 8000 --baseline-max 8000
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procwatch import _cpu_of, _rss  # noqa: E402
from newsvault.textdiff import _key, inline_diff, tokens  # noqa: E402
from storage.repository import Archive, ArticleRecord, FetchRecord  # noqa: E402

SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in ("a", "e", "i", "o", "u", "ar")]


def text(words: int, seed: int) -> str:
    rng = random.Random(seed)
    vocab = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 3))) for _ in range(3000)]
    vocab += ["the", "a", "of", "and", "in", "to"] * 200  # common words, as in real text
    out = [" ".join(rng.choices(vocab, k=80)).capitalize() + "." for _ in range(words // 80)]
    return "\n\n".join(out)


def old_alignment(old: str, new: str) -> int:
    """The diff's alignment before the bound: one difflib pass over every token."""
    a, b = [_key(t) for t in tokens(old)], [_key(t) for t in tokens(new)]
    return len(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())


def build(db: Path, sizes: list[int]) -> dict[int, int]:
    """One article per size, in two revisions (the second rewritten in full); their ids."""
    archive = Archive.open(f"sqlite:///{db}")
    ids: dict[int, int] = {}
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for n in sizes:
        url = f"https://bench.example/story-{n}"
        for rev, seed in ((1, n), (2, n + 1)):
            body = text(n, seed)
            rec = ArticleRecord("bench", url, body, f"{n:032x}{rev:032x}", title=f"Story {rev}")
            fetch = FetchRecord(url, t0 + timedelta(days=rev), 200, body.encode())
            archive.save_article(None, rec, fetch)
    archive.close()
    import sqlite3

    with sqlite3.connect(db) as con:
        for n in sizes:
            url = f"https://bench.example/story-{n}"
            ids[n] = con.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()[0]
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--words", type=int, nargs="*", default=[1000, 2000, 4000, 8000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-max", type=int, default=4000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "archive.db"
        ids = build(db, args.words)
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(
            f"database: sqlite:///{db}\nsources:\n  - name: bench\n"
            "    feeds: [https://bench.example/feed]\n"
        )
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [
            sys.executable,
            "-m",
            "newsvault",
            "serve",
            "--config",
            str(cfg),
            "--port",
            str(port),
        ]
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.1)
            print(
                f"{'words':>6} {'view s (median)':>16} {'server CPU s':>13} {'RSS MB':>7}"
                f" {'old align s':>12} {'ratio new/old':>14}"
            )
            for n in args.words:
                walls = []
                cpu0 = _cpu_of(server.pid) or 0.0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    with urllib.request.urlopen(f"{base}/articles/{ids[n]}/revisions/2") as r:
                        assert r.status == 200, r.status
                        r.read()
                    walls.append(time.perf_counter() - t)
                cpu = ((_cpu_of(server.pid) or 0.0) - cpu0) / args.repeat
                wall = statistics.median(walls)
                old_s = ratio = "-"
                if n <= args.baseline_max:
                    old, new = text(n, n), text(n, n + 1)
                    t = time.perf_counter()
                    old_alignment(old, new)
                    took = time.perf_counter() - t
                    t = time.perf_counter()
                    inline_diff(old, new)
                    now = time.perf_counter() - t
                    old_s, ratio = f"{took:.2f}", f"{now / took:.3f}"
                print(
                    f"{n:>6} {wall:>16.3f} {cpu:>13.3f} {_rss(server.pid) / 1e6:>7.0f}"
                    f" {old_s:>12} {ratio:>14}"
                )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
