"""End-to-end throughput of newsvault against the tools people would otherwise use.

One command generates a local news site (bench/sitegen.py), serves it with nginx (a
multi-process Python server, with a warning, when nginx is missing) on a loopback address, and
then, from cold and one after the other, runs:

- ``newsvault``: ``newsvault crawl`` on a sitemap source, into a fresh SQLite archive;
- ``naive``: a single-process Scrapy spider calling ``trafilatura.extract`` in its callback and
  writing rows to SQLite (bench/naive_spider.py);
- ``trafilatura``: trafilatura's own command line, fairly: ``SLEEP_TIME = 0`` in its settings
  file, the sitemap listed first (``--sitemap URL --list``) and then ``-i urls.txt --parallel 4``;
- ``bare``: ``trafilatura.extract`` alone, in one process, on (a sample of) the same pages.

It prints, per tool: articles stored (checked against the site: a tool that drops pages is
marked FAIL), wall seconds, CPU seconds per article (every process of the tool included), peak
RSS (the tool's main process and the sum over all its processes), articles per second and the
ratio to the naive spider; and the archive's bytes per article.

Only loopback addresses are ever contacted. trafilatura's URL filter (courlan) refuses
``127.0.0.1:PORT``, so the site is served on port 80 of a loopback address (127.x.y.z) when this
runs as root; otherwise the trafilatura run is skipped.

Example::

    python bench/throughput.py --articles 2000
    python bench/throughput.py --articles 20000 --only newsvault   # the memory check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from procwatch import Usage, run_watched  # noqa: E402
from server import StaticServer  # noqa: E402
from sitegen import generate_site, set_base_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("newsvault", "naive", "trafilatura", "bare")
EXTRACT_OPTS = {"favor_precision": True, "include_comments": False, "with_metadata": True}


@dataclass
class Result:
    tool: str
    stored: int | None
    usage: Usage | None
    note: str = ""
    db_bytes: int | None = None
    cpu_per_article: float | None = None


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def _fresh(*paths: Path) -> None:
    for p in paths:
        for q in p.parent.glob(p.name + "*"):
            shutil.rmtree(q) if q.is_dir() else q.unlink()


def run_newsvault(base: str, work: Path, n: int, concurrency: int) -> Result:
    db = work / "newsvault.db"
    _fresh(db)
    cfg = work / "newsvault.yaml"
    cfg.write_text(
        json.dumps(
            {
                "database": f"sqlite:///{db}",
                "crawl": {
                    "allow_private_networks": True,
                    "download_delay": 0,
                    "concurrency_per_domain": concurrency,
                    "max_pages_per_run": n + 100,
                },
                "sources": [{"name": "bench", "sitemaps": [f"{base}/sitemap_index.xml"]}],
            }
        ),
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "newsvault", "crawl", "--config", str(cfg)]
    out, log = work / "newsvault.out", work / "newsvault.log"
    usage = run_watched(cmd, cwd=ROOT, stdout=out, log=log)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = sum(p.stat().st_size for p in work.glob("newsvault.db*"))
    return Result("newsvault", stored, usage, db_bytes=size)


def run_naive(base: str, work: Path, n: int, concurrency: int) -> Result:
    db = work / "naive.db"
    _fresh(db)
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "naive_spider.py"),
        "--sitemap",
        f"{base}/sitemap_index.xml",
        "--db",
        str(db),
        "--concurrency",
        str(concurrency),
    ]
    usage = run_watched(cmd, cwd=ROOT, log=work / "naive.log")
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = sum(p.stat().st_size for p in work.glob("naive.db*"))
    return Result("naive", stored, usage, db_bytes=size)


def run_trafilatura(base: str, work: Path, n: int, parallel: int) -> Result:
    if ":" in base.split("//", 1)[1]:
        why = "skipped: courlan refuses IP:port URLs (run as root)"
        return Result("trafilatura", None, None, why)
    import trafilatura

    cfg = work / "trafilatura.cfg"
    default = Path(trafilatura.__file__).parent / "settings.cfg"
    text = default.read_text(encoding="utf-8")
    text = text.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0").replace(
        "SSRF_PROTECTION = on", "SSRF_PROTECTION = off"
    )
    cfg.write_text(text, encoding="utf-8")
    urls, out = work / "urls.txt", work / "trafilatura-out"
    _fresh(urls, out)
    exe = _bin("trafilatura")
    flags = ["--config-file", str(cfg), "--precision", "--no-comments", "--with-metadata"]
    step1 = [exe, "--sitemap", f"{base}/sitemap_index.xml", "--list", *flags]
    step2 = [exe, "-i", str(urls), "--parallel", str(parallel), "-o", str(out), *flags]
    u1 = run_watched(step1, cwd=work, stdout=urls, log=work / "trafilatura-list.log")
    listed = sum(1 for line in urls.read_text(encoding="utf-8").splitlines() if line.strip())
    u2 = run_watched(step2, cwd=work, log=work / "trafilatura.log")
    stored = sum(1 for p in out.rglob("*") if p.is_file()) if out.exists() else 0
    return Result("trafilatura", stored, u1 + u2, note=f"{listed} URLs listed")


def bare_extract(site: Path, sample: int) -> dict[str, float]:
    """CPU seconds per page of trafilatura.extract alone (newsvault's options), in this process."""
    import trafilatura

    files = sorted(p for p in site.rglob("*.html") if p.name != "index.html")
    step = max(1, len(files) // sample)
    chosen = files[::step][:sample]
    pages = [(p.read_bytes(), "http://bench.local/" + str(p.relative_to(site))) for p in chosen]
    trafilatura.extract(pages[0][0].decode(), url=pages[0][1], **EXTRACT_OPTS)  # warm up
    t0 = time.process_time()
    ok = 0
    for body, url in pages:
        ok += trafilatura.extract(body.decode("utf-8"), url=url, **EXTRACT_OPTS) is not None
    cpu = time.process_time() - t0
    return {"pages": len(pages), "ok": ok, "cpu_per_article": cpu / len(pages)}


def run_bare(site: Path, work: Path, sample: int) -> Result:
    cmd = [sys.executable, __file__, "--bare-extract", str(site), "--sample", str(sample)]
    out = work / "bare.json"
    usage = run_watched(cmd, cwd=ROOT, stdout=out, log=work / "bare.log")
    data = json.loads(out.read_text(encoding="utf-8"))
    r = Result("bare", None, usage, note=f"{data['ok']}/{data['pages']} sampled pages")
    r.cpu_per_article = data["cpu_per_article"]
    return r


def _brief(r: Result) -> str:
    if r.usage is None:
        return r.note
    if r.cpu_per_article is not None:
        return f"{r.cpu_per_article:.4f} CPU s/article"
    return f"{r.stored} stored in {r.usage.wall:.1f} s, {r.usage.cpu:.1f} CPU s"


def _better(new: Result, old: Result) -> bool:
    """The run to keep: all articles stored first, then the faster (or cheaper, for bare)."""
    if new.cpu_per_article is not None and old.cpu_per_article is not None:
        return new.cpu_per_article < old.cpu_per_article
    if new.usage is None or old.usage is None:
        return old.usage is None and new.usage is not None
    if (new.stored or 0) != (old.stored or 0):
        return (new.stored or 0) > (old.stored or 0)
    return new.usage.wall < old.usage.wall


def _fmt_rows(results: list[Result], n: int) -> list[list[str]]:
    naive = next((r for r in results if r.tool == "naive" and r.usage), None)
    traf = next((r for r in results if r.tool == "trafilatura" and r.usage), None)
    bare = next((r for r in results if r.tool == "bare"), None)
    rows = []
    for r in results:
        if r.tool == "bare":
            rows.append(["bare trafilatura.extract", "-", "-", f"{r.cpu_per_article:.4f}",
                         "-", "-", "-", "-", "-", r.note])
            continue
        if r.usage is None:
            rows.append([r.tool, "-", "-", "-", "-", "-", "-", "-", "-", r.note])
            continue
        u = r.usage
        stored = r.stored or 0
        check = "ok" if stored >= n else f"FAIL ({n - stored} missing)"
        rate = stored / u.wall if u.wall else 0.0
        cpa = u.cpu / stored if stored else float("nan")
        ratios = []
        if naive and naive.usage and naive.stored:
            ratios.append(f"{rate / (naive.stored / naive.usage.wall):.2f}x naive")
        if r.tool == "newsvault" and traf and traf.usage and traf.stored:
            ratios.append(f"{rate / (traf.stored / traf.usage.wall):.2f}x trafilatura")
        if r.tool == "newsvault" and bare and bare.cpu_per_article:
            ratios.append(f"CPU {cpa / bare.cpu_per_article:.2f}x bare")
        per = f"{r.db_bytes / stored / 1024:.1f} KiB" if r.db_bytes and stored else "-"
        rows.append([
            r.tool, f"{stored} {check}", f"{u.wall:.1f}", f"{cpa:.4f}",
            f"{u.peak_rss_main / 2**20:.0f}", f"{u.peak_pss_tree / 2**20:.0f}", f"{rate:.1f}",
            ", ".join(ratios) or "-", per,
            "; ".join(x for x in (f"main process {u.cpu_main / stored:.4f} CPU s/article"
                                  if stored else "", r.note) if x),
        ])
    return rows


HEADER = ["tool", "articles stored", "wall s", "CPU s/article", "peak RSS main MiB",
          "peak PSS all MiB", "articles/s", "ratios", "DB bytes/article", "note"]


def print_table(results: list[Result], n: int, markdown: bool) -> None:
    rows = _fmt_rows(results, n)
    if markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="newsvault vs naive Scrapy vs trafilatura")
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", action="append", choices=TOOLS, help="run only these (repeatable)")
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--concurrency", type=int, default=16, help="Scrapy requests per domain")
    ap.add_argument("--parallel", type=int, default=4, help="trafilatura --parallel")
    ap.add_argument("--bare-sample", type=int, default=400, help="pages for the bare extraction")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the tools N times, interleaved, and keep each one's fastest run (busy machines)",
    )
    ap.add_argument("--bare-extract", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--sample", type=int, default=400, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.bare_extract:
        print(json.dumps(bare_extract(args.bare_extract, args.sample)))
        return 0
    tools = args.only or list(TOOLS)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsvault-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    site = work / "site"
    t0 = time.monotonic()
    generate_site(site, args.articles, args.seed)
    print(f"generated {args.articles} articles in {time.monotonic() - t0:.1f}s: {site}",
          file=sys.stderr)
    results: list[Result] = []
    try:
        with StaticServer(site, work) as server:
            set_base_url(site, server.base)
            print(f"serving with {server.kind} at {server.base}", file=sys.stderr)
            base, n, conc = server.base, args.articles, args.concurrency
            runners = {
                "newsvault": lambda: run_newsvault(base, work, n, conc),
                "naive": lambda: run_naive(base, work, n, conc),
                "trafilatura": lambda: run_trafilatura(base, work, n, args.parallel),
                "bare": lambda: run_bare(site, work, args.bare_sample),
            }
            best: dict[str, Result] = {}
            for rnd in range(1, args.rounds + 1):
                for tool in (t for t in TOOLS if t in tools):
                    print(f"round {rnd}: running {tool} ...", file=sys.stderr)
                    res = runners[tool]()
                    print(f"  {_brief(res)}", file=sys.stderr)
                    if tool not in best or _better(res, best[tool]):
                        best[tool] = res
            results = [best[t] for t in TOOLS if t in best]
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    rounds = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"\n{args.articles} articles, {os.cpu_count()} CPUs, server: {server.kind}{rounds}\n")
    print_table(results, args.articles, args.markdown)
    failed = any(r.stored is not None and r.stored < args.articles for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
