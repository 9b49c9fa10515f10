"""config.yaml: validation, messages that name file and key, and the CLI's exit status 2."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
import yaml

from common.config import load_config, parse_config
from common.cron import parse_cron
from common.errors import ConfigError

GOOD = {"sources": [{"name": "a", "feeds": ["https://example.com/feed/"]}]}


def _err(data: object) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, Path("/etc/nv/config.yaml"))
    return str(info.value)


def test_minimal_config_has_defaults() -> None:
    c = parse_config(GOOD)
    assert c.crawl.obey_robots is True
    assert c.crawl.allow_private_networks is False
    assert c.sources[0].domains == ("example.com",)


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        ({**GOOD, "colour": "red"}, "colour", "unknown key"),
        ({"crawl": {"delay": 1}, **GOOD}, "crawl.delay", "unknown key"),
        (
            {
                "sources": [
                    {"name": "a", "feeds": ["https://e.com/"], "article_urls": ["(unclosed"]}
                ]
            },
            "sources[0].article_urls",
            "bad regular expression",
        ),
        (
            {"sources": [{"name": "a", "feeds": ["ftp://e.com/x"]}]},
            "sources[0].feeds",
            "not an http(s) URL",
        ),
        (
            {"sources": [{"name": "a", "feeds": ["https://e.com/"], "schedule": "every hour"}]},
            "sources[0].schedule",
            "not a cron expression",
        ),
        (
            {"sources": [{"name": "a", "feeds": ["https://e.com/"], "schedule": "61 * * * *"}]},
            "sources[0].schedule",
            "not a valid cron expression",
        ),
        ({"sources": [{"name": "a"}]}, "sources[0]", "at least one of feeds, sitemaps, start_urls"),
        (
            {
                "sources": [
                    {"name": "a", "feeds": ["https://e.com/"]},
                    {"name": "a", "feeds": ["https://f.com/"]},
                ]
            },
            "(top level)",
            "two sources are named 'a'",
        ),
        (
            {"crawl": {"concurrency_per_domain": 0}, **GOOD},
            "crawl.concurrency_per_domain",
            "greater than or equal to 1",
        ),
        (["a", "list"], "", "top level must be a mapping"),
    ],
)
def test_bad_config_names_file_key_and_problem(data: object, key: str, problem: str) -> None:
    msg = _err(data)
    assert msg.startswith("/etc/nv/config.yaml")
    assert key in msg
    assert problem in msg


def test_source_name_is_shown_with_its_key() -> None:
    msg = _err({"sources": [{"name": "daily", "feeds": ["nope"]}]})
    assert "(source 'daily')" in msg


def test_env_vars_expand_and_missing_ones_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_DB", "postgresql://u:secret@127.0.0.1/test")
    assert parse_config({**GOOD, "database": "${NV_DB}"}).database.endswith("/test")
    monkeypatch.delenv("NV_DB")
    assert "environment variable NV_DB is not set" in _err({**GOOD, "database": "${NV_DB}"})


def test_relative_sqlite_path_is_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({**GOOD, "database": "sqlite:///data.db"}))
    assert load_config(path).database == f"sqlite:///{tmp_path / 'sub' / 'data.db'}"


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n  - name: x\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+: not valid YAML"):
        load_config(bad)


def test_cron_weekdays_are_read_as_cron_reads_them() -> None:
    from datetime import datetime

    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # a Sunday
    sunday = parse_cron("0 9 * * 0").get_next_fire_time(None, start)
    assert sunday is not None and sunday.strftime("%a %d") == "Sun 06"
    seven = parse_cron("0 9 * * 7").get_next_fire_time(None, start)
    assert seven == sunday
    weekdays = parse_cron("0 9 * * 1-5").get_next_fire_time(None, start)
    assert weekdays is not None and weekdays.strftime("%a") == "Mon"
    fri_sun = parse_cron("0 9 * * 5-7").get_next_fire_time(None, start)
    assert fri_sun is not None and fri_sun.strftime("%a %d") == "Fri 04"
    secs = parse_cron("*/5 * * * * *").get_next_fire_time(None, start.replace(second=1))
    assert secs is not None and (secs - start).total_seconds() == 5


def test_cli_bad_config_exits_2_without_traceback(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"sources": [{"name": "a", "feeds": ["https://e.com/"], "bogus": 1}]})
    )
    proc = cli("crawl", "--config", str(path))
    assert proc.returncode == 2
    assert f"{path}: sources[0].bogus (source 'a'): unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cli("crawl", "--config", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_cli_unknown_source_exits_2(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    proc = cli("crawl", "--config", str(path), "--source", "zzz")
    assert proc.returncode == 2 and "no source named 'zzz'" in proc.stderr


def test_frontier_is_a_redis_url_and_absent_by_default() -> None:
    assert parse_config(GOOD).frontier is None
    url = "redis://127.0.0.1:6379/2?visibility=30"
    assert parse_config({**GOOD, "frontier": url}).frontier == url
    for bad in ("http://127.0.0.1:6379/0", "redis://h/0?visibility=soon"):
        with pytest.raises(ConfigError, match="frontier"):
            parse_config({**GOOD, "frontier": bad})
