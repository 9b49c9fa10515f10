"""The extraction forkserver's last preload warms extraction up and freezes the heap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.extract import ExtractOptions
from pipeline.extract_worker import _WARM_UP_PAGE, PRELOAD, extract_page

ROOT = Path(__file__).resolve().parent.parent


def test_the_warm_up_page_goes_through_the_whole_extraction() -> None:
    # an early "not an article" would leave most of what the first real page loads unloaded
    result = extract_page(_WARM_UP_PAGE, "utf-8", "http://warm-up.invalid/news/1", ExtractOptions())
    assert result.article.title == "Warm-up"
    assert "Paragraph 5" in result.article.text and result.simhash is not None


def test_prefork_is_preloaded_last_and_freezes_what_it_loaded() -> None:
    assert PRELOAD[-1] == "pipeline.prefork"
    code = (
        "import gc, sys; import pipeline.prefork; "
        "print(gc.get_freeze_count(), 'cssselect' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 10_000  # trafilatura, lxml and our modules' objects, all frozen
    assert out[1] == "True"  # loaded lazily by the first page's cleaning


def test_the_forkserver_does_not_import_the_archive_layer() -> None:
    # workers only pack bodies (storage.bodies); the package used to import SQLAlchemy, its
    # PostgreSQL dialect and the models with it: half a second of CPU per forkserver
    code = (
        "import sys; import pipeline.extract_worker, trafilatura, lxml.html, newsvault.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
