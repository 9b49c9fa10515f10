#!/usr/bin/env python3
"""Extraction quality: newsvault beside plain trafilatura, on real pages with human-made truth.

Runs, over every page of the dataset and in the same process, newsvault's ``extract_article`` and
plain ``trafilatura.extract(html, url=url)`` (default, and ``favor_precision=True``); scores each
with the dataset's own ``score.py`` (imported, not copied); prints precision, recall, F1, empty
pages, pages leaking known boilerplate, and seconds per page. Then per-field metadata accuracy
where truth for a field exists.

Example::

    python bench/quality.py                      # dataset found under ../shared/datasets/
    python bench/quality.py --dataset DIR --per-page bench/out/pages.tsv

Exit status: 0 on success, 2 when the dataset or its score.py is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATASET_NAME = "article-extraction-benchmark"
Row = tuple[str, tuple[float, float, float], float]  # score.py's per-page (id, counts, accuracy)

# Phrases that never belong in an article's text. A page "leaks" when the extracted text contains
# one of them and the page's truth does not (so a story *about* newsletters is not counted).
LEAK_PHRASES = (
    "Leave a Reply", "Leave a comment", "Your email address will not be published",
    "Required fields are marked", "No votes yet", "Please wait...", "Share this",
    "Click to share", "Sign up for our newsletter", "Subscribe to our newsletter",
    "Related posts", "Related articles", "Related stories", "You may also like",
    "You might also like", "Read more:", "READ MORE", "Recommended for you", "Most popular",
    "Most read", "This site uses cookies", "We use cookies", "Accept cookies",
    "Post a comment", "comments powered by", "Like this story", "Follow us on",
    "Lesen Sie auch", "Ihre E-Mail-Adresse wird nicht veröffentlicht", "Lire aussi",
    "Votre adresse e-mail ne sera pas publiée", "Deja un comentario", "Leer más:",
    "Leggi anche", "Leia também", "Deixe um comentário", "相关阅读", "责任编辑",
)


def find_dataset(given: str | None) -> Path:
    """The dataset directory: --dataset, else ../shared/datasets/<name> from the repo root or
    any directory above it (a git worktree sits deeper than the main checkout)."""
    if given:
        return Path(given).resolve()
    for base in (REPO, *REPO.parents):
        candidate = base.parent / "shared" / "datasets" / DATASET_NAME
        if candidate.is_dir():
            return candidate
    return (REPO.parent / "shared" / "datasets" / DATASET_NAME).resolve()


def load_score(dataset: Path) -> ModuleType:
    path = dataset.parent / "score.py"
    spec = importlib.util.spec_from_file_location("dataset_score", path)
    if spec is None or spec.loader is None or not path.is_file():
        sys.exit(f"error: {path} not found (the scorer lives beside the dataset)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tools() -> dict[str, Callable[[str, str], str]]:
    import trafilatura

    from common.errors import ExtractionError
    from pipeline.extract import extract_article

    def newsvault(html: str, url: str) -> str:
        try:
            return extract_article(html, url).text
        except ExtractionError:
            return ""

    def plain(html: str, url: str) -> str:
        return trafilatura.extract(html, url=url) or ""

    def precision(html: str, url: str) -> str:
        return trafilatura.extract(html, url=url, favor_precision=True) or ""

    return {
        "newsvault": newsvault,
        "trafilatura": plain,
        "trafilatura precision": precision,
    }


def leaks(pred: str, truth: str) -> list[str]:
    p, t = pred.casefold(), truth.casefold()
    return [x for x in LEAK_PHRASES if x.casefold() in p and x.casefold() not in t]


def run_benchmark(dataset: Path, per_page: Path | None, out_dir: Path | None) -> None:
    score = load_score(dataset)
    truth: dict[str, str] = score.load_truth(dataset, "articleBody")
    urls = {
        p.stem: json.loads(p.read_text(encoding="utf-8")).get("url") or ""
        for p in (dataset / "truth").glob("*.json")
    }
    pages = {i: (dataset / "html" / f"{i}.html").read_text(encoding="utf-8") for i in truth}
    print(f"dataset: {dataset} ({len(pages)} pages)")
    results: dict[str, tuple[dict[str, float], list[Row], float, int]] = {}
    named = tools()
    preds: dict[str, dict[str, str]] = {name: {} for name in named}
    spent = dict.fromkeys(named, 0.0)
    for i in list(pages)[:3]:  # warm up imports and caches outside the timing
        for fn in named.values():
            fn(pages[i], urls[i])
    # tools take turns on each page, timed in CPU seconds of this process, so that load from
    # other programs on the machine weighs on all of them alike
    for i, html in pages.items():
        for name, fn in named.items():
            start = time.process_time()
            preds[name][i] = fn(html, urls[i])
            spent[name] += time.process_time() - start
    for name in named:
        metrics, rows = score.evaluate(truth, preds[name], n_bootstrap=200)
        leaking = sum(1 for i in truth if leaks(preds[name][i], truth[i]))
        results[name] = (metrics, rows, spent[name] / len(pages), leaking)
        if out_dir:
            d = out_dir / name.replace(" ", "-")
            d.mkdir(parents=True, exist_ok=True)
            for i, text in preds[name].items():
                (d / f"{i}.txt").write_text(text, encoding="utf-8")
    base = results["trafilatura"][2]
    print()
    print(f"{'tool':<24}{'precision':>11}{'recall':>9}{'F1':>8}{'±F1':>7}{'empty':>7}"
          f"{'leaks':>7}{'cpu s/page':>11}{'× plain':>9}")
    for name, (m, _rows, per, leaking) in results.items():
        print(f"{name:<24}{m['precision']:>11.4f}{m['recall']:>9.4f}{m['f1']:>8.4f}"
              f"{m.get('f1_std', 0):>7.3f}{m['empty_predictions']:>7}{leaking:>7}"
              f"{per:>11.4f}{per / base:>9.2f}")
    print("leaks = pages whose text has a known boilerplate phrase that their truth lacks "
          f"({len(LEAK_PHRASES)} phrases in bench/quality.py)")
    if per_page:
        per_page.parent.mkdir(parents=True, exist_ok=True)
        with per_page.open("w", encoding="utf-8") as f:
            names = list(results)
            f.write("id\t" + "\t".join(f"{n} P\t{n} R" for n in names) + "\n")
            rows_by = {n: {r[0]: r[1] for r in results[n][1]} for n in names}
            for i in sorted(truth):
                cells = []
                for n in names:
                    c = rows_by[n][i]
                    cells += [f"{score.page_precision(*c):.3f}", f"{score.page_recall(*c):.3f}"]
                f.write(i + "\t" + "\t".join(cells) + "\n")
        print(f"per-page figures written to {per_page}")
    fields = sorted({k for p in (dataset / "truth").glob("*.json")
                     for k in json.loads(p.read_text(encoding="utf-8"))} - {"id", "url"})
    print(f"\nmetadata truth in this dataset: fields {fields}; title, publication date and "
          "authors have no truth here, so no accuracy is claimed for them on these pages.")


def _norm(value: object) -> object:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return value


Case = tuple[str | bytes, str, dict[str, object]]  # page, URL, expected field values


def fixture_cases(fixtures: Path) -> list[Case]:
    """Hand-written test pages whose ``<name>.meta.json`` give the expected metadata."""
    cases: list[Case] = []
    for meta in sorted(fixtures.glob("*.meta.json")):
        name = meta.name.removesuffix(".meta.json")
        expected = json.loads(meta.read_text(encoding="utf-8"))
        url = expected.pop("url", f"https://example.org/{name}")
        cases.append(((fixtures / f"{name}.html").read_bytes(), url, expected))
    return cases


def demo_cases(repo: Path) -> list[Case]:
    """The bundled demo site's articles, with the metadata its manifest gives."""
    manifest = repo / "tests" / "data" / "demo_site.json"
    site = repo / "newsvault" / "demo_site"
    if not manifest.is_file() or not site.is_dir():
        return []
    base = "http://127.0.0.1:8000"
    cases: list[Case] = []
    for path, meta in json.loads(manifest.read_text(encoding="utf-8"))["articles"].items():
        html = (site / meta["file"]).read_text(encoding="utf-8").replace("__BASE__", base)
        expected = {"title": meta["title"], "authors": meta["authors"],
                    "published_at": meta["published"], "language": meta["language"]}
        if meta.get("modified"):
            expected["modified_at"] = meta["modified"]
        cases.append((html, base + path, expected))
    return cases


def _matches(key: str, got: object, want: object) -> bool:
    if isinstance(got, str) and isinstance(want, str):
        if key == "published_at":
            got = got[: len(want)]  # truth may give the day only
        if key == "language":
            got, want = got.split("-")[0], want.split("-")[0]
    return _norm(got) == _norm(want)


def run_metadata(label: str, cases: list[Case]) -> None:
    """Per-field accuracy of newsvault's metadata where truth exists."""
    from common.errors import ExtractionError
    from pipeline.extract import extract_article

    if not cases:
        print(f"\n{label}: not present, no metadata truth to score")
        return
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    for html, url, expected in cases:
        try:
            art = extract_article(html, url)
        except ExtractionError:
            art = None
        for key, want in expected.items():
            seen[key] = seen.get(key, 0) + 1
            got = getattr(art, key, None) if art else None
            right[key] = right.get(key, 0) + int(_matches(key, got, want))
    print(f"\nmetadata accuracy, {label} ({len(cases)} pages):")
    for key in sorted(seen):
        print(f"  {key:<14}{right[key]:>3}/{seen[key]:<3} {right[key] / seen[key]:.0%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", help="dataset directory (html/, truth/; score.py beside it)")
    ap.add_argument("--per-page", type=Path, help="write each page's P/R per tool to this TSV")
    ap.add_argument("--out", type=Path, help="write each tool's texts under this directory")
    args = ap.parse_args()
    dataset = find_dataset(args.dataset)
    if not (dataset / "html").is_dir() or not (dataset / "truth").is_dir():
        print(f"error: dataset not found at {dataset} (expected html/ and truth/ there; "
              "give --dataset DIR)", file=sys.stderr)
        return 2
    if not (dataset.parent / "score.py").is_file():
        print(f"error: {dataset.parent / 'score.py'} not found", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    run_benchmark(dataset, args.per_page, args.out)
    run_metadata("hand-written test pages, tests/extraction/ (ours: indicative only)",
                 fixture_cases(REPO / "tests" / "extraction"))
    run_metadata("bundled demo site, newsvault/demo_site/ (manifest by the demo's author)",
                 demo_cases(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
