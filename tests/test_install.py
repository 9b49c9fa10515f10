"""newsvault runs without its test extras (``pip install .``), and the demo says what to run
next; the extras are named as users expect."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("playwright", "hypothesis", "psycopg", "redis", "datasette", "pytest")

# Runs the CLI with every test-only package made unimportable (sys.modules[name] = None).
_BLOCKED_CLI = (
    "import sys\n"
    f"for name in {TEST_ONLY!r}: sys.modules[name] = None\n"
    "from newsvault.cli import main\n"
    "main()\n"
)


def test_demo_runs_without_test_extras_and_prints_next_steps(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-c", _BLOCKED_CLI, "demo", "--db", str(db)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr
    cfg = tmp_path / "demo.yaml"
    assert f"export NEWSVAULT_CONFIG={cfg}" in done.stdout
    for step in ("newsvault search harbour", "newsvault serve", "newsvault init my-archive"):
        assert step in done.stdout

    # the steps work as printed
    env = {**os.environ, "NEWSVAULT_CONFIG": str(cfg)}
    search = subprocess.run(
        [sys.executable, "-c", _BLOCKED_CLI, "search", "harbour"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert search.returncode == 0, search.stderr
    assert "harbour" in search.stdout.lower()


def test_extras() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert [d.split(">")[0] for d in extras["postgres"]] == ["psycopg[binary]"]
    assert [d.split(">")[0] for d in extras["frontier"]] == ["redis"]
    deps = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for name in TEST_ONLY:
        assert name not in deps  # a plain `pip install .` pulls none of them
    assert {"test", "dev", "postgres", "frontier"} <= set(extras)
