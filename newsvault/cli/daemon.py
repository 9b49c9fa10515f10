"""``newsvault daemon``, ``newsvault runs`` and ``newsvault status``.

Exit statuses as for every command (see :mod:`newsvault.cli`); ``status`` exits 1 when a source is
unhealthy, so it can serve as a health check.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from common.errors import StorageError
from common.runs import COUNTERS, FAILED, LABELS, describe_counts
from newsvault.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STORAGE,
    config_option,
    fail,
    one_source_option,
    verbosity_options,
)
from newsvault.cli.output import Column, emit, emit_json, json_option, note

if TYPE_CHECKING:
    from common.config import Config, Source

__all__ = ["daemon", "health", "runs", "status"]


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "-"


def _span(delta: timedelta) -> str:
    if delta.total_seconds() < 10:
        return f"{delta.total_seconds():.1f} s"
    secs = int(delta.total_seconds())
    if secs < 120:
        return f"{secs} s"
    if secs < 7200:
        return f"{secs // 60} min"
    if secs < 172800:
        return f"{secs // 3600} h"
    return f"{secs // 86400} d"


def _open_runlog(config: Config) -> Any:
    from storage.repository import Archive
    from storage.runlog import RunLog

    try:
        return RunLog(Archive.open(config.database, readonly=True))
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)


@click.command()
@config_option
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the log to this file instead of stderr (reopened after logrotate moves it)",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="one line of text, or one JSON object, per event",
)
@verbosity_options
def daemon(config: Config, log_file: Path | None, log_format: str, verbosity: int) -> None:
    """Archive every source on its schedule, until stopped.

    Each source runs on its `schedule:` crontab string (else daemon.default_schedule), each run
    in its own `newsvault crawl` process, never two at once per source. SIGTERM or SIGINT stops
    cleanly (running crawls write what they have) and exits 0; SIGHUP reloads the config file.
    Exit status 1: another daemon runs against the same archive; 2: bad config or log file;
    3: the archive cannot be opened. --quiet logs problems only (no run started/ended or
    progress events); --verbose adds debugging events and APScheduler's own.

    \b
    Examples:
        newsvault daemon --config /etc/newsvault/config.yaml --log-format json
        newsvault daemon --quiet --log-file /var/log/newsvault.log
    """
    from newsvault.daemon_log import setup_logging
    from newsvault.schedule import Daemon
    from storage.repository import Archive
    from storage.runlog import RunLog

    if not config.sources:
        fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    if config.path is not None:
        config = config.model_copy(update={"path": config.path.resolve()})
    try:
        level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
        log = setup_logging(log_format, log_file, level)
    except OSError as exc:
        fail(f"{log_file}: cannot open the log file: {exc.strerror}", EXIT_CONFIG)
    try:
        archive = Archive.open(config.database)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    try:
        code = Daemon(config, RunLog(archive), log).run()
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        archive.close()
    if code == EXIT_FAILED:
        fail("another newsvault daemon is running against this archive; not started", code)
    sys.exit(code)


def _seconds(run: dict[str, Any]) -> float | None:
    took = run["finished_at"] - run["started_at"] if run["finished_at"] else None
    return round(took.total_seconds(), 3) if took is not None else None


RUN_COLUMNS = (
    Column("id", right=True),
    Column("source"),
    Column("trigger", table=False),
    Column("started_at", "started", show=_when),
    Column("seconds", "took", right=True, show=lambda s: _span(timedelta(seconds=s)) if s else "-"),
    Column("status"),
    *(Column(name, LABELS[name], right=True, table=False) for name in COUNTERS),
    Column("counts", wrap=True, tsv=False, cell=lambda r: describe_counts(r, nonzero=True)),
    Column("message", wrap=True),
)


@click.command()
@config_option
@one_source_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="newest N runs",
)
@json_option
def runs(config: Config, source_name: str | None, limit: int, as_json: bool) -> None:
    """List the newest runs: when, how they were started, how they ended, what they archived.

    Statuses: running, ok, partial (some pages failed), failed, stopped, timed out, skipped
    (the source was being crawled already), interrupted (its process died). The message says
    why, e.g. the most frequent failure reasons (all of them: `newsvault failures --run ID`);
    for a running run, its process and host and its last sign of life. A `newsvault worker`
    records one run per source, trigger "worker", with its counts so far.

    \b
    Examples:
        newsvault runs
        newsvault runs --source harbour-gazette --limit 10 --json
    """
    from common.dates import utcnow

    runlog = _open_runlog(config)
    try:
        rows = runlog.archive.runs(source_name, limit=limit)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        runlog.archive.close()
    now = utcnow()
    for r in rows:
        r["seconds"] = _seconds(r)
        if not as_json and r["status"] == "running" and not r["message"]:
            r["message"] = _activity(r, now)
    emit(rows, RUN_COLUMNS, as_json=as_json, title="newsvault runs (times in UTC)")


def _activity(run: Mapping[str, Any], now: datetime) -> str:
    """Where a running run runs and when it last showed a sign of life."""
    last = run.get("heartbeat_at") or run["started_at"]
    return f"pid {run['pid']} on {run.get('host') or '?'}, last active {_span(now - last)} ago"


def health(config: Config, history: Any, now: datetime) -> tuple[bool, str]:
    """(healthy, why) for one source's :class:`storage.runlog.SourceHistory`.

    Unhealthy: its last finished run failed, timed out or was interrupted; or it has had no
    successful (ok or partial) run for longer than ``daemon.unhealthy_after`` seconds, counted
    from its last success, else from its first run. A source with no runs yet is healthy.
    """
    limit = timedelta(seconds=config.daemon.unhealthy_after)
    last = history.last_finished
    if last is not None and last["status"] in FAILED:
        why = f"last run {last['status']}"
        return False, why + (f": {last['message']}" if last["message"] else "")
    success = history.last_success
    if success is not None:
        since = success["finished_at"] or success["started_at"]
        if now - since > limit:
            return False, f"no successful run for {_span(now - since)}"
        return True, "ok"
    if history.first_started is None:
        return True, "no runs yet"
    if now - history.first_started > limit:
        return False, f"no successful run since its first, {_span(now - history.first_started)} ago"
    return True, "no successful run yet"


STATUS_COLUMNS = (
    Column("source"),
    Column("schedule"),
    Column("last_run_at", "last run", show=lambda at: _when(at) if at else "never"),
    Column("last_status", "status", cell=lambda r: _last_status(r), wrap=True),
    Column("last_success_at", "last success", show=lambda at: _when(at) if at else "never"),
    Column("next_run_at", "next run", show=_when),
    Column("health", wrap=True),
)


@click.command()
@config_option
@json_option
def status(config: Config, as_json: bool) -> None:
    """Show each source's last run, next run and health; exit 1 if any source is unhealthy.

    Unhealthy: the last run failed (or timed out, or its process died), or no run has succeeded
    for longer than daemon.unhealthy_after. Usable as a health check (exit status 0 or 1;
    2 bad config, 3 the archive cannot be opened). Also says whether a daemon is running
    against the archive and which workers (`newsvault worker`) are at work, with their last
    activity (for information: the exit status depends on the crawls' runs only; a worker's
    runs are not a source's last run). With --json: one object, {"healthy", "daemon",
    "workers": [...], "sources": [...]}.

    \b
    Examples:
        newsvault status
        newsvault status --json
        newsvault status || echo "newsvault: a source is unhealthy"
    """
    from common.dates import utcnow
    from newsvault.schedule import DAEMON_LOCK

    if not config.sources:
        fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    runlog = _open_runlog(config)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    try:
        holder = runlog.holder(DAEMON_LOCK)
        workers = runlog.archive.workers()
        for source in config.sources:
            hist = runlog.history(source.name)
            rows.append(_status_row(config, source, hist, now))
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        runlog.archive.close()
    daemon_line, running = _daemon_line(holder, now)
    problems = [f"{r['source']}: {r['why']}" for r in rows if not r["healthy"]]
    if as_json:
        daemon_info = {"running": running, "state": daemon_line.removeprefix("daemon: ")}
        found = [
            {"host": w.host, "pid": w.pid, "sources": w.sources, "last_active": w.last_active}
            for w in workers
        ]
        emit_json(
            {"healthy": not problems, "daemon": daemon_info, "workers": found, "sources": rows}
        )
    else:
        emit(rows, STATUS_COLUMNS, as_json=False, title="newsvault status (times in UTC)")
        note(daemon_line)
        if workers:
            each = (
                f"pid {w.pid} on {w.host or '?'}, last active {_span(now - w.last_active)} ago"
                for w in workers
            )
            note(f"workers: {len(workers)} ({'; '.join(each)})")
        for problem in problems:
            click.echo(f"newsvault: unhealthy: {problem}", err=True)
    sys.exit(EXIT_FAILED if problems else EXIT_OK)


def _status_row(config: Config, source: Source, hist: Any, now: datetime) -> dict[str, Any]:
    from newsvault.schedule import next_fire, schedule_of

    ok, why = health(config, hist, now)
    last, success = hist.last, hist.last_success
    return {
        "source": source.name,
        "schedule": schedule_of(config, source),
        "last_run_at": last["started_at"] if last else None,
        "last_status": last["status"] if last else None,
        "urls_over_cap": (last.get("urls_over_cap") or 0) if last else 0,
        "last_success_at": success["finished_at"] if success else None,
        "next_run_at": next_fire(config, source, now),
        "healthy": ok,
        "why": why,
        "health": ("ok" if why == "ok" else why) if ok else f"UNHEALTHY: {why}",
    }


def _last_status(row: Mapping[str, Any]) -> str:
    """The last run's status, and whether it left articles for the next run (the page cap)."""
    status, over = row.get("last_status"), row.get("urls_over_cap") or 0
    if not status:
        return "-"
    return f"{status}, page cap reached: {over} URLs wait" if over else str(status)


def _daemon_line(holder: Any, now: datetime) -> tuple[str, bool]:
    """What the status says about the daemon, and whether one is running."""
    from newsvault.locks import STALE_AFTER_SECONDS

    if holder is None:
        return "daemon: not running against this archive", False
    age = now - holder.heartbeat_at
    if age > timedelta(seconds=STALE_AFTER_SECONDS):
        last = f"its last sign of life was {_span(age)} ago, {holder.describe()}"
        return f"daemon: not running ({last})", False
    return f"daemon: running, {holder.describe()}", True
