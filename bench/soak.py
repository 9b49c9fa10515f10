"""Soak test of ``newsvault daemon``: does it stay flat over many runs? (Not a unit test.)

Runs the real daemon for N minutes against the bundled demo site on 127.0.0.1, every source on a
schedule of a few seconds, and reports the runs (by status), the failures, and the daemon's own
memory (RSS), threads and open file descriptors: at start, after a warm-up of a few runs, and at
the end. The crawls run in child processes; only the daemon itself must not grow with the
number of runs.

With ``--kill-every S``, every S seconds the soak SIGKILLs the main PID of a running crawl (as
the OOM killer would; never its workers), and checks 5 s later that no process of that crawl
is left (each crawl runs in a session of its own, so /proc finds all of it). It reports the
processes of the soak (the daemon's and every crawl's sessions) over time, the processes left
by finished crawls (orphans), and whether every crawl the daemon started has its run recorded.

    .venv/bin/python bench/soak.py --minutes 3 --every 5 --sources 1
    .venv/bin/python bench/soak.py --minutes 30 --every 20 --sources 3 --kill-every 120

Exit status 1 if a run failed (other than a killed crawl's), a crawl left a process, a crawl's
run was not recorded, the daemon did not exit 0 on SIGTERM, or its RSS grew by more than
``--max-growth`` percent between the warm-up and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsvault.demo import DEMO_SITE  # noqa: E402
from newsvault.sitesrv import LocalSite  # noqa: E402

ENTRIES = [("feeds", "/feed.xml"), ("feeds", "/atom.xml"), ("sitemaps", "/sitemap-news.xml")]


def proc_stats(pid: int) -> dict[str, int]:
    """RSS (KiB), threads and open fds of a live process, from /proc."""
    out = {"rss_kib": 0, "threads": 0, "fds": 0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            out["rss_kib"] = int(line.split()[1])
        elif line.startswith("Threads:"):
            out["threads"] = int(line.split()[1])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def sessions() -> dict[int, list[int]]:
    """Session id -> live (not zombie) pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid, _pgrp, sid = stat[stat.rindex(")") + 2 :].split()[:4]
        if state != "Z":
            out.setdefault(int(sid), []).append(int(entry))
    return out


def crawl_children(daemon: int) -> list[int]:
    """The daemon's running ``newsvault crawl`` children."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == daemon and fields[0] != "Z" and b"\0crawl\0" in cmd:
            found.append(int(entry))
    return found


def recorded_pids(db: Path) -> set[int]:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return {p for (p,) in con.execute("SELECT pid FROM runs") if p is not None}
    except sqlite3.OperationalError:
        return set()


def run_counts(db: Path) -> Counter[str]:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return Counter(s for (s,) in con.execute("SELECT status FROM runs"))
    except sqlite3.OperationalError:
        return Counter()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--every", type=int, default=6, help="seconds between runs of a source")
    ap.add_argument("--sources", type=int, default=1, choices=range(1, len(ENTRIES) + 1))
    ap.add_argument("--warmup-runs", type=int, default=3)
    ap.add_argument("--max-growth", type=float, default=10.0, help="percent RSS growth allowed")
    ap.add_argument(
        "--kill-every", type=float, default=0, help="seconds between SIGKILLs of a crawl (0: none)"
    )
    ap.add_argument("--delay", type=float, default=0, help="crawl.download_delay, seconds")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    tmp = Path(tempfile.mkdtemp(prefix="newsvault-soak-"))
    db = tmp / "soak.db"
    with LocalSite(DEMO_SITE) as site:
        sources = [
            {"name": f"s{i}", key: [site.url(path)], "schedule": f"*/{args.every} * * * * *"}
            for i, (key, path) in enumerate(ENTRIES[: args.sources])
        ]
        config = {
            "database": f"sqlite:///{db}",
            "crawl": {"allow_private_networks": True, "download_delay": args.delay},
            "daemon": {"run_timeout": 120, "kill_after": 10, "progress_interval": 0},
            "sources": sources,
        }
        (tmp / "config.yaml").write_text(yaml.safe_dump(config))
        log = tmp / "daemon.log"
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsvault",
                "daemon",
                "--config",
                str(tmp / "config.yaml"),
                "--log-format",
                "json",
                "--log-file",
                str(log),
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )
        while daemon.poll() is None and not (log.exists() and '"plan"' in log.read_text()):
            time.sleep(0.2)  # started: scheduler running, nothing run yet
        start = proc_stats(daemon.pid)
        warm: dict[str, int] | None = None
        warm_runs = 0
        peak = start["rss_kib"]
        t0 = time.monotonic()
        end_at = t0 + args.minutes * 60
        seen: set[int] = set()  # crawl pids (= their session ids)
        killed: dict[int, float] = {}  # crawl pid -> when it was SIGKILLed
        orphans: dict[int, list[int]] = {}  # killed crawl pid -> its processes 5 s later
        ended: dict[int, float] = {}  # crawl pid -> when its main process was gone
        procs: list[tuple[float, int, int]] = []  # (minute, soak processes, leftover processes)
        next_kill = t0 + args.kill_every * rng.uniform(0.5, 1.0) if args.kill_every else end_at
        while time.monotonic() < end_at and daemon.poll() is None:
            time.sleep(1.0)
            now = proc_stats(daemon.pid)
            peak = max(peak, now["rss_kib"])
            done = sum(run_counts(db).values())
            if warm is None and done >= args.warmup_runs:
                warm, warm_runs = now, done
            running = crawl_children(daemon.pid)
            seen.update(running)
            by_sid = sessions()
            if time.monotonic() >= next_kill and running:
                with_pool = [p for p in running if len(by_sid.get(p, [])) >= 3]
                victim = rng.choice(with_pool or running)
                os.kill(victim, signal.SIGKILL)  # the main PID only
                killed[victim] = time.monotonic()
                next_kill += args.kill_every
            for pid, when in killed.items():
                if pid not in orphans and time.monotonic() - when >= 5:
                    orphans[pid] = by_sid.get(pid, [])
            for pid in seen - set(running):
                ended.setdefault(pid, time.monotonic())
            # the daemon, and every process of every crawl's session
            ours = 1 + sum(len(by_sid.get(sid, [])) for sid in seen)
            # processes of crawls whose main process has been gone for 5 s or more
            gone = [pid for pid, when in ended.items() if time.monotonic() - when >= 5]
            left = sum(len(by_sid.get(sid, [])) for sid in gone)
            procs.append(((time.monotonic() - t0) / 60, ours, left))
        end = proc_stats(daemon.pid) if daemon.poll() is None else start
        daemon.send_signal(signal.SIGTERM)
        t_stop = time.monotonic()
        rc = daemon.wait(timeout=120)
        stop_secs = time.monotonic() - t_stop
        time.sleep(5)
        after = sessions()
        left_at_end = {sid: after[sid] for sid in seen if after.get(sid)}
        if daemon.pid in {p for pids in after.values() for p in pids}:
            left_at_end[daemon.pid] = [daemon.pid]
        recorded = recorded_pids(db)

    counts = run_counts(db)
    total = sum(counts.values())
    events = Counter(json.loads(line)["event"] for line in log.read_text().splitlines() if line)
    warm = warm or start
    growth = 100.0 * (end["rss_kib"] - warm["rss_kib"]) / max(warm["rss_kib"], 1)
    elapsed = args.minutes * 60
    what = f"{args.sources} source(s) every {args.every} s"
    print(f"newsvault daemon soak: {args.minutes:g} min, {what}")
    print(f"  runs recorded      {total} ({total / elapsed * 60:.1f}/min): {dict(counts)}")
    print(f"  failed/timed out   {counts['failed'] + counts['timed out'] + counts['interrupted']}")
    print(f"  log events         {dict(events)}")
    print(
        f"  daemon RSS (MiB)   start {start['rss_kib'] / 1024:.1f}, after {warm_runs} runs "
        f"{warm['rss_kib'] / 1024:.1f}, end {end['rss_kib'] / 1024:.1f}, peak {peak / 1024:.1f}"
    )
    per_100 = (end["rss_kib"] - warm["rss_kib"]) / max(total - warm_runs, 1) * 100 / 1024
    print(f"  RSS growth         {growth:+.1f}% warm-up->end ({per_100:+.2f} MiB per 100 runs)")
    print(f"  threads            start {start['threads']}, end {end['threads']}")
    print(f"  open fds           start {start['fds']}, end {end['fds']}")
    print(f"  SIGTERM -> exit    {rc} after {stop_secs:.1f} s")
    if args.kill_every:
        hit = [pid for pid in killed if orphans.get(pid)]
        print(
            f"  crawls SIGKILLed   {len(killed)} (every {args.kill_every:g} s); left a process: "
            f"{len(hit)} {[orphans[p] for p in hit]}"
        )
    unrecorded = sorted(seen - recorded)
    print(
        f"  crawls started     {len(seen)}; without a recorded run: {len(unrecorded)} {unrecorded}"
    )
    if procs:
        fifth = max(len(procs) // 5, 1)
        first, last = procs[:fifth], procs[-fifth:]
        print(
            "  soak processes     (daemon + crawl sessions, sampled every second) "
            f"first fifth max {max(n for _, n, _ in first)}, last fifth max "
            f"{max(n for _, n, _ in last)}; now {procs[-1][1]}; "
            f"max left over by ended crawls {max(x for _, _, x in procs)}"
        )
    print(f"  after exit         processes left: {sum(len(v) for v in left_at_end.values())}")
    print(f"  files              {tmp}")
    bad = counts["failed"] + counts["timed out"] + counts["interrupted"] - len(killed)
    leftover = max((x for _, _, x in procs), default=0)
    ok = (
        rc == 0
        and bad <= 0
        and growth <= args.max_growth
        and counts["ok"] >= 2
        and not any(orphans.values())
        and not unrecorded
        and not left_at_end
        and leftover == 0
    )
    print("  verdict            " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
