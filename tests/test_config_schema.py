"""Config errors suggest the closest key; docs/config.schema.json is the model's current schema."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from common.config import config_schema, parse_config
from common.errors import ConfigError
from newsvault.configfile import STARTER_CONFIG

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "config.schema.json"


def test_published_schema_is_current() -> None:
    want = json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA.read_text(encoding="utf-8") == want, (
        "docs/config.schema.json is out of date: run `make schema`"
    )


def _keys(data: object, schema: dict, defs: dict, where: str = "") -> list[str]:
    """Keys of ``data`` that the schema does not allow (objects only; enough for config.yaml)."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    bad = []
    if isinstance(data, dict):
        props = schema.get("properties", {})
        assert schema.get("additionalProperties") is False, where
        for key, value in data.items():
            if key not in props:
                bad.append(f"{where}.{key}")
            else:
                bad += _keys(value, props[key], defs, f"{where}.{key}")
    elif isinstance(data, list) and "items" in schema:
        for i, value in enumerate(data):
            bad += _keys(value, schema["items"], defs, f"{where}[{i}]")
    return bad


@pytest.mark.parametrize("text", [(ROOT / "config.yaml").read_text(), STARTER_CONFIG])
def test_schema_allows_every_key_of_the_shipped_configs(text: str) -> None:
    schema = config_schema()
    assert _keys(yaml.safe_load(text), schema, schema["$defs"]) == []
    assert "path" not in schema["properties"]  # internal, not a key of the file


@pytest.mark.parametrize(
    ("data", "suggestion"),
    [
        ({"crawl": {"concurrency_per_domian": 3}}, "crawl.concurrency_per_domian: unknown key; "
         "did you mean 'concurrency_per_domain'?"),
        ({"databse": "sqlite:///x.db"}, "databse: unknown key; did you mean 'database'?"),
        ({"sources": [{"name": "a", "feeds": ["http://a.example/"], "schedul": "0 * * * *"}]},
         "sources[0].schedul (source 'a'): unknown key; did you mean 'schedule'?"),
        ({"incremental": {"recheck": [{"younger_than": "2d", "evry": "1d"}]}},
         "did you mean 'every'?"),
    ],
)  # fmt: skip
def test_unknown_keys_suggest_the_closest(data: dict, suggestion: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert suggestion in str(err.value)


def test_far_from_any_key_no_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"colour": "blue"})
    assert str(err.value) == "config: colour: unknown key"


def test_check_shows_the_suggestion(
    tmp_path: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("crawl:\n  downlod_delay: 1\n", encoding="utf-8")
    done = cli("check", "--config", str(path))
    assert done.returncode == 2
    assert done.stderr == (
        f"newsvault: {path}: crawl.downlod_delay: unknown key; did you mean 'download_delay'?\n"
    )
