"""Careless and hostile config files (issue 20): one line and exit 2, at once, never a
traceback; source names and archived titles and authors are one printable line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from common.config import parse_config
from common.errors import ConfigError
from common.text import one_line, printable
from pipeline.extract import Article
from pipeline.records import article_record

GOOD = "sources:\n  - name: gazette\n    feeds: [http://news.example/feed]\n"


def _one_line_exit_2(proc: Any) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_config_that_is_not_utf8_names_the_file_and_the_byte(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(GOOD.replace("gazette", "gaz\xe9tte").encode("latin-1"))
    line = _one_line_exit_2(cli("crawl", "--config", str(path)))
    offset = GOOD.index("gazette") + 3
    assert str(path) in line and f"offset {offset}" in line and "UTF-8" in line, line


def test_yaml_aliases_are_refused_at_once(tmp_path: Path, cli: Any) -> None:
    """A "billion laughs" of nested aliases: refused before anything is expanded."""
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i, prev in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"{i}: &{i} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    path = tmp_path / "config.yaml"
    path.write_text(bomb + GOOD)
    started = time.monotonic()
    line = _one_line_exit_2(cli("crawl", "--config", str(path), timeout=60))
    assert time.monotonic() - started < 30
    assert "aliases" in line and str(path) in line and "line 2" in line, line


@pytest.mark.parametrize("name", ["abc\n", "abc\ndef", "a\u202eb", "tab\tname", ""])
def test_source_names_are_one_line_of_printable_characters(name: str) -> None:
    with pytest.raises(ConfigError):
        parse_config({"sources": [{"name": name, "feeds": ["http://news.example/f"]}]})


def test_control_and_bidi_characters_never_reach_the_archive() -> None:
    article = Article(
        url="http://news.example/a",
        text="Some text.",
        title="Harbour\u202e news\x1b[2J\n today",
        authors=("Ann\u2066 Lee\x07", "\x1b"),
    )
    rec = article_record("gazette", "http://news.example/a", article)
    assert rec.title == "Harbour news[2J today"
    assert rec.authors == ("Ann Lee",)
    assert printable("a\u202eb\x1b\tc\nd\re") == "ab\tc\nde"
    assert one_line(" a \n\n b\u2069 ") == "a b"
