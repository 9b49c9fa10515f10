"""The examples of docs/api.md run as written, on the demo archive."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from newsvault.demo import DEMO_SITE

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_doc_has_an_example_for_each_job() -> None:
    code = "\n".join(_examples())
    for call in ("open_archive(", ".search(", ".articles(", ".article(", "extract("):
        assert call in code


def test_api_doc_examples_run(
    tmp_path: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = cli("demo", "--db", str(tmp_path / "newsvault.db"))
    assert done.returncode == 0, done.stderr
    shutil.copy(DEMO_SITE / "2026/11/harbour-dredging/index.html", tmp_path / "story.html")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    for example in _examples():
        with contextlib.redirect_stdout(out):
            exec(compile(example, str(DOC), "exec"), {})  # noqa: S102
    printed = out.getvalue()
    assert "12 articles" in printed
    assert "Harbour dredging to begin in January" in printed
    assert "not an article:" in printed
