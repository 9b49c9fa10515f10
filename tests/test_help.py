"""Help texts read as written: examples kept line by line, no RST markup, readable metavars."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from newsvault.cli import main


def _commands() -> list[str]:
    assert isinstance(main, click.Group)
    return sorted(main.commands)


@pytest.mark.parametrize("name", ["", *_commands()])
def test_help_shows_no_markup_and_readable_metavars(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"] if name else ["--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    for markup in ("``", ":class:", ":func:", ":mod:", ".. "):
        assert markup not in text, f"`newsvault {name} --help` shows {markup!r}"
    for metavar in ("[%", "INTEGER", "FLOAT", " TEXT", "RANGE"):
        assert metavar not in text, f"`newsvault {name} --help` shows the metavar {metavar!r}"
    examples = [line for line in text.splitlines() if line.strip().startswith("newsvault ")]
    assert examples, f"`newsvault {name} --help` has no example"
    for line in examples:
        assert line.startswith("      newsvault "), f"an example re-wrapped by click: {line!r}"
