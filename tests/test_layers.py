"""The one rule of direction: imports point down only.

newsvault (the application) > pipeline > crawler | storage > common (the leaf). The contracts live
in pyproject.toml ([tool.importlinter]) and are checked here by import-linter, so ``make test``
fails on a back-edge, an indirect one included.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "crawler", "pipeline", "storage", "newsvault")
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and pyproject.toml, to add a back-edge to."""
    root = tmp_path_factory.mktemp("layers")
    for name in PACKAGES:
        shutil.copytree(
            ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "demo_site")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_ignore_no_import() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert [c["id"] for c in contracts["contracts"] if c.get("ignore_imports")] == []


def test_the_crawler_never_names_storage() -> None:
    """Not even where the linter cannot see it (a module name in a string, for importlib): the
    crawler gets the archive's state handed in by the orchestration (newsvault.crawl)."""
    named = re.compile(r"\b(from|import)\s+storage\b|\bstorage\.\w|[\"']storage\b")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "crawler").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if named.search(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "imports"),
    [
        ("common/backedge.py", "import storage.models\n"),  # the leaf imports a package
        ("storage/backedge.py", "from pipeline import extract\n"),  # storage reaches up
        ("crawler/backedge.py", "import storage.db\n"),  # crawler and storage are independent
        ("pipeline/backedge.py", "from newsvault import crawl\n"),  # only the app is on top
    ],
)
def test_a_back_edge_breaks_them(tree: Path, module: str, imports: str) -> None:
    path = tree / module
    path.write_text(imports)
    try:
        result = _lint(tree)
    finally:
        path.unlink()
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert module.replace("/", ".").removesuffix(".py") in result.stdout


def test_run_counters_are_spelled_once() -> None:
    """The counters of a run are named in common/runs.py alone: the archive's columns, the
    crawl's results and every table come from that one list."""
    from dataclasses import fields

    from common.runs import COUNTERS, LABELS
    from newsvault.crawl import RunResult
    from storage.models import Run

    assert set(LABELS) == set(COUNTERS)
    assert set(COUNTERS) <= {c.name for c in Run.__table__.columns}
    assert set(COUNTERS) <= {f.name for f in fields(RunResult)}
    spelled = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] not in PACKAGES or "migrations" in path.parts:
            continue
        if path.relative_to(ROOT).as_posix() in ("common/runs.py", "newsvault/crawl.py"):
            continue
        if path.read_text(encoding="utf-8").count('"articles_unchanged"'):
            spelled.append(path.relative_to(ROOT).as_posix())
    assert spelled == []
