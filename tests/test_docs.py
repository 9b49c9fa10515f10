"""Docs stay true: every config key is documented, every command has help with an example."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from common.config import (
    CleanRules,
    Config,
    CrawlSettings,
    DaemonSettings,
    DedupeSettings,
    IncrementalSettings,
    RecheckRule,
    Source,
)
from newsvault.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs" / "config.md"


@pytest.mark.parametrize(
    "model",
    [
        Config,
        CrawlSettings,
        DaemonSettings,
        Source,
        CleanRules,
        IncrementalSettings,
        RecheckRule,
        DedupeSettings,
    ],
)
def test_every_config_key_is_documented(model: type[BaseModel]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in model.model_fields:
        if name == "path":
            continue  # set by the loader, not a key of the file
        assert f"| `{name}` |" in text, f"{model.__name__}.{name} is not in docs/config.md"


def _commands() -> list[str]:
    assert isinstance(main, click.Group)
    return sorted(main.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`newsvault {name} --help` shows no example"
    cmd = main.commands[name]  # type: ignore[attr-defined]
    assert cmd.help and len(cmd.help.strip().splitlines()[0]) > 10


def test_readme_opens_with_the_two_commands() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert lines[:2] == ["make demo", "make test"]
