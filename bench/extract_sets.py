#!/usr/bin/env python3
"""Extraction quality on all three shared sets at once, with per-page deltas and CPU per page.

Runs newsvault's one extraction entry point (``pipeline.extract.extract_article``) over every
page of ``article-extraction-benchmark``, ``wcxb-articles-dev`` and ``readability-test-pages``
(found under ../shared/datasets/), scores each set with the datasets' own ``score.py``
(imported, not copied) and prints F1 / precision / recall, empty pages and CPU milliseconds per
page (CPU time of the extraction call in the worker process). Each run's per-page figures are
saved under bench/out/extract_sets/; the next run prints the pages whose F1 moved the most.

``--base PATH`` runs a second checkout's ``extract_article`` (e.g. /work/main) on the same pages
in the same run, for before/after figures and CPU measured under the same load. ``--plain`` adds
plain ``trafilatura.extract(html, url=url)``, the reference for recall.

Example::

    python bench/extract_sets.py                      # this checkout, 2 worker processes
    python bench/extract_sets.py --base /work/main --plain
    python bench/extract_sets.py --sets wcxb-articles-dev --deltas 30

Exit status: 0 on success, 2 when the datasets or score.py are missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SETS = ("article-extraction-benchmark", "wcxb-articles-dev", "readability-test-pages")
OUT = REPO / "bench" / "out" / "extract_sets"
Task = tuple[str, str, str, str]  # set name, page id, html, url

_extract: Callable[[str, str], str] | None = None


def find_datasets() -> Path:
    for base in (REPO, *REPO.parents):
        candidate = base.parent / "shared" / "datasets"
        if (candidate / "score.py").is_file():
            return candidate
    return REPO.parent / "shared" / "datasets"


def load_score(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("dataset_score", root / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _init(tool: str, checkout: str) -> None:
    """Worker start: import the tool from the given checkout (its own process, its own modules)."""
    global _extract
    warnings.simplefilter("ignore")
    if tool == "plain":
        import trafilatura

        def plain(html: str, url: str) -> str:
            return trafilatura.extract(html, url=url) or ""

        _extract = plain
        return
    sys.path.insert(0, checkout)
    from common.errors import ExtractionError
    from pipeline.extract import extract_article

    def newsvault(html: str, url: str) -> str:
        try:
            return extract_article(html, url).text
        except ExtractionError:
            return ""

    _extract = newsvault


def _run(task: Task) -> tuple[str, str, str, float]:
    set_name, page_id, html, url = task
    assert _extract is not None
    start = time.process_time()
    text = _extract(html, url)
    return set_name, page_id, text, time.process_time() - start


def load_tasks(root: Path, sets: list[str]) -> list[Task]:
    tasks: list[Task] = []
    for name in sets:
        for truth in sorted((root / name / "truth").glob("*.json")):
            url = json.loads(truth.read_text(encoding="utf-8")).get("url") or ""
            html = (root / name / "html" / f"{truth.stem}.html").read_text(encoding="utf-8")
            tasks.append((name, truth.stem, html, url))
    return tasks


def run_tool(tool: str, checkout: Path, tasks: list[Task], procs: int) -> dict[str, Any]:
    """{set: {"texts": {id: text}, "cpu": seconds}} for one tool."""
    out: dict[str, Any] = {}
    ctx = multiprocessing.get_context("spawn")  # a clean import of the checkout per worker
    with ctx.Pool(procs, initializer=_init, initargs=(tool, str(checkout))) as pool:
        # warm up each worker's imports outside the timing
        pool.map(_run, [tasks[0]] * procs, chunksize=1)
        for set_name, page_id, text, cpu in pool.imap_unordered(_run, tasks, chunksize=4):
            entry = out.setdefault(set_name, {"texts": {}, "cpu": 0.0})
            entry["texts"][page_id] = text
            entry["cpu"] += cpu
    return out


def page_f1(score: ModuleType, counts: tuple[float, float, float]) -> float:
    p, r = score.page_precision(*counts), score.page_recall(*counts)
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    ap.add_argument("--base", type=Path, help="also run this checkout's extract_article")
    ap.add_argument("--plain", action="store_true", help="also run plain trafilatura.extract")
    ap.add_argument("--procs", type=int, default=2, help="worker processes (at most 2 here)")
    ap.add_argument("--deltas", type=int, default=15, help="pages to list per set by F1 change")
    ap.add_argument("--label", default="run", help="name of this run's saved figures")
    args = ap.parse_args()
    root = find_datasets()
    if not (root / "score.py").is_file():
        print(f"error: {root / 'score.py'} not found", file=sys.stderr)
        return 2
    score = load_score(root)
    tasks = load_tasks(root, args.sets)
    tools: list[tuple[str, str, Path]] = [("newsvault", "newsvault", REPO)]
    if args.base:
        tools.append(("base", "newsvault", args.base.resolve()))
    if args.plain:
        tools.append(("trafilatura", "plain", REPO))
    texts_dir = OUT / args.label
    if texts_dir.is_dir():  # keep the last run's texts beside this one's, for diffs
        shutil.rmtree(OUT / f"{args.label}.last", ignore_errors=True)
        texts_dir.rename(OUT / f"{args.label}.last")
    results = {label: run_tool(tool, path, tasks, args.procs) for label, tool, path in tools}
    OUT.mkdir(parents=True, exist_ok=True)
    last_path = OUT / f"{args.label}.json"
    last = json.loads(last_path.read_text()) if last_path.is_file() else {}
    saved: dict[str, dict[str, float]] = {}
    print(f"{'set':<30}{'tool':<13}{'F1':>7}{'P':>7}{'R':>7}{'empty':>6}{'CPU ms/page':>13}")
    for set_name in args.sets:
        truth = score.load_truth(root / set_name, "articleBody")
        for label, *_ in tools:
            entry = results[label][set_name]
            m, rows = score.evaluate(truth, entry["texts"], n_bootstrap=0)
            ms = 1000 * entry["cpu"] / len(truth)
            print(
                f"{set_name:<30}{label:<13}{m['f1']:>7.4f}{m['precision']:>7.4f}"
                f"{m['recall']:>7.4f}{m['empty_predictions']:>6}{ms:>13.1f}"
            )
            if label == "newsvault":
                saved[set_name] = {i: page_f1(score, c) for i, c, _a in rows}
            d = texts_dir / label / set_name  # the texts, for score.py --per-page
            d.mkdir(parents=True, exist_ok=True)
            for i, text in entry["texts"].items():
                (d / f"{i}.txt").write_text(text, encoding="utf-8")
    for set_name in args.sets:
        before = last.get(set_name)
        if not before:
            continue
        moved = sorted(
            ((f - before.get(i, f), i) for i, f in saved[set_name].items()), key=lambda x: x[0]
        )
        moved = [x for x in moved if abs(x[0]) > 0.005]
        print(
            f"\n{set_name}: {len(moved)} pages moved against the last run "
            f"(+{sum(1 for d, _ in moved if d > 0)} / -{sum(1 for d, _ in moved if d < 0)})"
        )
        worse = [x for x in moved if x[0] < 0][: args.deltas]
        better = [x for x in moved if x[0] > 0][::-1][: args.deltas]
        for delta, i in worse + better:
            print(f"  {i:<12}{delta:+.3f}  now {saved[set_name][i]:.3f}")
    last_path.write_text(json.dumps(saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
