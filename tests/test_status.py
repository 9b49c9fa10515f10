"""`newsvault status` (health, exit status), `newsvault runs`, and catch-up arithmetic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from common.config import parse_config
from common.dates import utcnow
from newsvault.cli import main
from newsvault.schedule import missed_fire
from storage.repository import Archive
from storage.runlog import RunLog
from tests.services import sql

FEED = "http://127.0.0.1:9/feed.xml"  # never fetched: these tests only read the runs table


@pytest.fixture
def config_file(write_config: Callable[..., Path]) -> Path:
    path = write_config([{"name": "gazette", "feeds": [FEED]}, {"name": "herald", "feeds": [FEED]}])
    data = yaml.safe_load(path.read_text())
    data["daemon"] = {"unhealthy_after": 3600}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def runlog(database_url: str) -> Iterator[RunLog]:
    log = RunLog(Archive.open(database_url))
    yield log
    log.archive.close()


def run(db: str, log: RunLog, source: str, status: str, hours_ago: float = 0.0) -> int:
    run_id = log.record_run(source, "schedule", status, f"a {status} run")
    at = (utcnow() - timedelta(hours=hours_ago)).replace(tzinfo=None).isoformat(" ")
    with sql(db) as con:
        con.execute(
            "UPDATE runs SET started_at = ?, finished_at = ? WHERE id = ?", (at, at, run_id)
        )
    return run_id


def status(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["status", "--config", str(config)])
    return result.exit_code, result.output


def test_status_is_0_when_every_source_ran_well_lately(
    config_file: Path, runlog: RunLog, database_url: str
) -> None:
    run(database_url, runlog, "gazette", "ok", hours_ago=0.5)
    run(database_url, runlog, "herald", "partial", hours_ago=0.2)
    run(database_url, runlog, "herald", "skipped")  # a skip is neither success nor failure
    code, out = status(config_file)
    assert code == 0, out
    assert "gazette" in out and "herald" in out and "UNHEALTHY" not in out


def test_status_is_0_for_sources_that_have_not_run_yet(config_file: Path, runlog: RunLog) -> None:
    code, out = status(config_file)
    assert code == 0, out
    assert "no runs yet" in out
    assert "daemon: not running against this archive" in out


@pytest.mark.parametrize("last", ["failed", "timed out", "interrupted"])
def test_status_is_1_when_the_last_run_failed(
    last: str, config_file: Path, runlog: RunLog, database_url: str
) -> None:
    run(database_url, runlog, "gazette", "ok", hours_ago=0.5)
    run(database_url, runlog, "herald", "ok", hours_ago=0.5)
    run(database_url, runlog, "herald", last, hours_ago=0.1)
    code, out = status(config_file)
    assert code == 1, out
    assert f"unhealthy: herald: last run {last}: a {last} run" in out
    assert "gazette: " not in out.split("UNHEALTHY")[-1]


def test_status_is_1_when_no_run_succeeded_for_too_long(
    config_file: Path, runlog: RunLog, database_url: str
) -> None:
    run(database_url, runlog, "gazette", "ok", hours_ago=3)
    run(database_url, runlog, "gazette", "stopped", hours_ago=0.1)  # not a failure, not a success
    run(database_url, runlog, "herald", "ok", hours_ago=0.1)
    code, out = status(config_file)
    assert code == 1, out
    assert "unhealthy: gazette: no successful run for 3 h" in out


def test_status_is_1_when_a_source_never_succeeded_since_its_first_run(
    config_file: Path, runlog: RunLog, database_url: str
) -> None:
    run(database_url, runlog, "gazette", "skipped", hours_ago=2)
    run(database_url, runlog, "herald", "ok", hours_ago=0.1)
    code, out = status(config_file)
    assert code == 1, out
    assert "gazette: no successful run since its first" in out


def test_status_exit_statuses_for_a_bad_config_and_a_missing_archive(
    tmp_path: Path, config_file: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("daemon: {unhealthy_after: soon}\n")
    assert status(bad)[0] == 2
    assert status(config_file)[0] == 3, "no archive at the configured path"


def test_runs_lists_newest_first_and_filters(
    config_file: Path, runlog: RunLog, database_url: str
) -> None:
    for i in range(3):
        run(database_url, runlog, "gazette", "ok", hours_ago=3 - i)
    run(database_url, runlog, "herald", "failed")
    result = CliRunner().invoke(main, ["runs", "--config", str(config_file), "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "schedule" in ln]
    assert len(lines) == 2
    assert "herald" in lines[0] and "failed" in lines[0] and "gazette" in lines[1]
    result = CliRunner().invoke(main, ["runs", "--config", str(config_file), "--source", "gazette"])
    lines = [ln for ln in result.output.splitlines() if "schedule" in ln]
    assert len(lines) == 3 and all("gazette" in ln for ln in lines)


def _config(schedule: str, grace: int) -> tuple[object, object]:
    c = parse_config(
        {
            "daemon": {"misfire_grace": grace},
            "sources": [{"name": "a", "feeds": [FEED], "schedule": schedule}],
        }
    )
    return c, c.sources[0]


def test_missed_fire_within_grace_since_the_last_run() -> None:
    now = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
    c, s = _config("0 * * * *", grace=3600)  # hourly, on the hour
    at_noon = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert missed_fire(c, s, now - timedelta(hours=5), now) == at_noon  # type: ignore[arg-type]
    assert missed_fire(c, s, at_noon + timedelta(seconds=3), now) is None  # type: ignore[arg-type]
    assert missed_fire(c, s, None, now) is None, "a source that never ran missed nothing"  # type: ignore[arg-type]
    c, s = _config("0 * * * *", grace=600)
    assert missed_fire(c, s, now - timedelta(hours=5), now) is None, "beyond the grace period"  # type: ignore[arg-type]
    c, s = _config("0 9 * * 0", grace=7 * 86400)  # Sundays at 9 (cron's weekday 0)
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 2026-11-29 is a Sunday
    assert missed_fire(c, s, now - timedelta(days=3), now) == sunday  # type: ignore[arg-type]


def test_daemon_refuses_to_start_without_sources_a_log_file_or_an_archive(
    tmp_path: Path, config_file: Path, write_config: Callable[..., Path]
) -> None:
    def daemon(config: Path, *more: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["daemon", "--config", str(config), *more])
        return result.exit_code, result.output

    code, out = daemon(config_file, "--log-file", str(tmp_path / "no" / "such" / "dir.log"))
    assert code == 2 and "cannot open the log file" in out
    empty = tmp_path / "empty.yaml"
    empty.write_text("sources: []\n")
    code, out = daemon(empty)
    assert code == 2 and "no sources configured" in out
    data = yaml.safe_load(config_file.read_text())
    config_file.write_text(yaml.safe_dump({**data, "database": "sqlite:////nonexistent/dir/a.db"}))
    code, out = daemon(config_file, "--log-file", str(tmp_path / "d.log"))
    assert code == 3 and "cannot create the archive" in out


def test_jitter_delays_each_fire_by_at_most_its_seconds() -> None:
    from common.cron import parse_cron

    now = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
    assert parse_cron("0 * * * *").get_next_fire_time(None, now) == now.replace(hour=13, minute=0)
    trigger = parse_cron("0 * * * *", jitter=30)
    fires = {trigger.get_next_fire_time(None, now) for _ in range(50)}
    base = now.replace(hour=13, minute=0)
    assert all(base <= f <= base + timedelta(seconds=30) for f in fires)
    assert len(fires) > 1, "the delay is random"


def test_workers_are_listed_with_their_last_activity_and_their_runs_are_no_crawl(
    config_file: Path, runlog: RunLog, database_url: str
) -> None:
    """A long-lived `newsvault worker` keeps a run per source "running": status names the
    worker and when it was last active, and its runs neither hide nor replace the crawls'."""
    run(database_url, runlog, "gazette", "ok", hours_ago=0.5)
    run(database_url, runlog, "herald", "failed", hours_ago=0.2)  # the last crawl failed
    archive = runlog.archive
    for source in ("gazette", "herald"):
        archive.start_run(source, "worker", pid=4242, host="w1.example")
    done = archive.start_run("herald", "worker", pid=77, host="w2.example")
    archive.finish_run(done, "ok")  # a worker that stopped: its run ended well
    result = CliRunner().invoke(main, ["status", "--config", str(config_file), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    last = {s["source"]: s["last_status"] for s in data["sources"]}
    assert last == {"gazette": "ok", "herald": "failed"}
    [worker] = data["workers"]
    assert (worker["host"], worker["pid"], worker["sources"]) == (
        "w1.example",
        4242,
        [
            "gazette",
            "herald",
        ],
    )
    code, out = status(config_file)
    assert code == 1 and "unhealthy: herald: last run failed" in out
    assert "workers: 1 (pid 4242 on w1.example, last active " in out
    listed = CliRunner().invoke(main, ["runs", "--config", str(config_file)])
    working = [ln for ln in listed.output.splitlines() if "running" in ln]
    assert len(working) == 2 and all("pid 4242 on w1.example, last active" in ln for ln in working)
