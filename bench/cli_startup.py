"""Start-up of the command line: ``newsvault --help`` and a shell completion, against baselines.

Each command runs ``--repeat`` times in turn (interleaved, so load on the machine hits all
alike); wall time and CPU (every process, :mod:`bench.procwatch`) are reported as medians.
Baselines measured in the same run: the bare interpreter (``python -c pass``, the floor), and
importing what the commands would cost without lazy imports (the packages a crawl and a search
need: scrapy, trafilatura, sqlalchemy, pydantic, rich). The target: ``newsvault --help`` under
0.3 s of wall time (on a loaded machine, read the CPU column: wall time is then mostly waiting).

Usage::

    .venv/bin/python bench/cli_startup.py
    .venv/bin/python bench/cli_startup.py --repeat 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procwatch import Usage, run_watched  # noqa: E402

HEAVY = "import scrapy.crawler, trafilatura, sqlalchemy.orm, pydantic, rich.table, click"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text("sources:\n  - {name: gazette, feeds: ['http://a.example/f']}\n")
        completion = {
            "_NEWSVAULT_COMPLETE": "bash_complete",
            "COMP_WORDS": "newsvault search --source g",
            "COMP_CWORD": "3",
            "NEWSVAULT_CONFIG": str(config),
        }
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass (floor)": ([py, "-c", "pass"], {}),
            "import the heavy packages (baseline)": ([py, "-c", HEAVY], {}),
            "newsvault --help": ([py, "-m", "newsvault", "--help"], {}),
            "completion of --source": ([py, "-m", "newsvault"], completion),
        }
        runs: dict[str, list[Usage]] = {name: [] for name in commands}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for _ in range(args.repeat):
            for name, (cmd, extra) in commands.items():
                out = Path(tmp) / "out"
                usage = run_watched(cmd, cwd=ROOT, stdout=out, env={**env, **extra}, interval=0.01)
                runs[name].append(usage)
    floor = statistics.median(u.wall for u in runs["python -c pass (floor)"])
    heavy = statistics.median(u.wall for u in runs["import the heavy packages (baseline)"])
    print(f"{'command':40} {'wall s':>8} {'cpu s':>8} {'x floor':>8} {'x heavy':>8}")
    for name, usages in runs.items():
        wall = statistics.median(u.wall for u in usages)
        cpu = statistics.median(u.cpu for u in usages)
        print(f"{name:40} {wall:8.3f} {cpu:8.3f} {wall / floor:8.2f} {wall / heavy:8.2f}")
    help_wall = statistics.median(u.wall for u in runs["newsvault --help"])
    help_cpu = statistics.median(u.cpu for u in runs["newsvault --help"])
    verdict = "meets" if help_wall < 0.3 else "misses"
    print(
        f"newsvault --help: {help_wall:.3f} s wall, {help_cpu:.3f} s CPU (median of"
        f" {args.repeat}): {verdict} the 0.3 s target; on a busy machine (load average"
        f" {os.getloadavg()[0]:.1f}) wall time is mostly waiting, CPU is what start-up costs"
    )


if __name__ == "__main__":
    main()
