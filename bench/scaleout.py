"""Scale-out benchmark: articles/s with 1, 2 and 4 crawling processes sharing one frontier.

A generated site (bench/sitegen.py) is served by nginx (bench/server.py) on a loopback address.
For each process count P, a fresh PostgreSQL schema and a Redis server of our own (no
persistence, a free port) are used: ``newsvault crawl`` seeds the run and works, P - 1
``newsvault worker --exit-when-idle 1`` processes work beside it. Measured over the whole process
tree (bench/procwatch.py: getrusage of every descendant, PSS from /proc): wall time of the run,
articles stored per second, CPU seconds per article, and the frontier's cost: Redis round trips
per request (every process adds its count to the source's ``:stats`` hash in Redis on exit).

The extraction pool is sized so the processes share the cores: each process gets
max(1, cores // P) extraction processes (the crawl takes the default, min(4, cores)).

Example::

    python bench/scaleout.py --articles 1000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procwatch import run_watched  # noqa: E402
from server import StaticServer  # noqa: E402
from sitegen import generate_site, set_base_url  # noqa: E402

PG = os.environ.get("NEWSVAULT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def run(base: str, work: Path, processes: int, articles: int, cores: int) -> dict[str, float]:
    import redis
    from sqlalchemy import create_engine, text

    schema = f"nv_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = f"{PG}?options=-csearch_path%3D{schema}"
    rproc, port = _redis(work)
    try:
        cfg = work / f"p{processes}.yaml"
        cfg.write_text(
            json.dumps(
                {
                    "database": database,
                    "frontier": f"redis://127.0.0.1:{port}/0",
                    "crawl": {
                        "allow_private_networks": True,
                        "download_delay": 0,
                        "concurrency_per_domain": 8 * processes,
                        "max_pages_per_run": articles + 100,
                        "obey_robots": False,
                    },
                    "incremental": {"enabled": False},
                    "sources": [{"name": "bench", "sitemaps": [f"{base}/sitemap_index.xml"]}],
                }
            ),
            encoding="utf-8",
        )
        nv = f"{sys.executable} -m newsvault"
        pool = max(1, cores // processes)
        workers = " ".join(
            f"{nv} worker --config {cfg} --exit-when-idle 1 --extract-workers {pool} &"
            for _ in range(processes - 1)
        )
        script = f"{workers} {nv} crawl --config {cfg}; wait"
        usage = run_watched(
            ["sh", "-c", script], cwd=ROOT, log=work / f"p{processes}.log", interval=0.2
        )
        with create_engine(database).connect() as conn:
            stored = int(conn.execute(text("SELECT count(*) FROM articles")).scalar_one())
            first, last = conn.execute(
                text("SELECT min(started_at), max(finished_at) FROM runs")
            ).one()
        stats = redis.Redis(port=port).hgetall("newsvault:src:bench:stats")
        requests = int(stats.get(b"requests", 0))
        trips = int(stats.get(b"round_trips", 0))
        span = (last - first).total_seconds() if first and last else usage.wall
        return {
            "processes": processes,
            "articles": stored,
            "run_seconds": span,
            "articles_per_s": stored / span if span else 0.0,
            "cpu_s": usage.cpu,
            "cpu_ms_per_article": 1000 * usage.cpu / max(stored, 1),
            "peak_pss_mib": usage.peak_pss_tree / 2**20,
            "requests": requests,
            "redis_round_trips_per_request": trips / max(requests, 1),
        }
    finally:
        rproc.terminate()
        rproc.wait()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="newsvault-scaleout-"))
    try:
        info = generate_site(work / "site", args.articles, seed=7)
        with StaticServer(info.root, work) as server:
            set_base_url(info.root, server.base)
            rows = [run(server.base, work, p, args.articles, cores) for p in args.processes]
        base = rows[0]["articles_per_s"] or 1.0
        print(f"{args.articles} articles, {cores} cores, server: {server.kind}")
        print("procs  articles  run s  art/s  x1     cpu ms/art  PSS MiB  redis trips/req")
        for r in rows:
            print(
                f"{r['processes']:>5}  {r['articles']:>8}  {r['run_seconds']:>5.1f}"
                f"  {r['articles_per_s']:>5.1f}  {r['articles_per_s'] / base:>4.2f}"
                f"  {r['cpu_ms_per_article']:>10.1f}  {r['peak_pss_mib']:>7.0f}"
                f"  {r['redis_round_trips_per_request']:>15.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
