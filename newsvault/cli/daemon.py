"""``newsvault daemon``, ``newsvault runs`` and ``newsvault status``.

Exit statuses as for every command (see :mod:`newsvault.cli`); ``status`` exits 1 when a source is
unhealthy, so it can serve as a health check.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from common.config import Config, Source
from common.errors import StorageError
from common.runs import COUNTERS, FAILED, LABELS
from newsvault.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STORAGE,
    config_option,
    fail,
)
from newsvault.locks import STALE_AFTER_SECONDS
from newsvault.schedule import DAEMON_LOCK, next_fire, schedule_of

__all__ = ["daemon", "health", "runs", "status"]



def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}" if at else "-"


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
def daemon(config: Config, log_file: Path | None, log_format: str) -> None:
    """Archive every source on its schedule, until stopped.

    Each source runs on its `schedule:` crontab string (else daemon.default_schedule), each run
    in its own `newsvault crawl` process, never two at once per source. SIGTERM or SIGINT stops
    cleanly (running crawls write what they have) and exits 0; SIGHUP reloads the config file.
    Exit status 1: another daemon runs against the same archive; 2: bad config or log file;
    3: the archive cannot be opened.

    Example:

        newsvault daemon --config /etc/newsvault/config.yaml --log-format json
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
        log = setup_logging(log_format, log_file)
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


@click.command()
@config_option
@click.option("--source", "source_name", metavar="NAME", default=None, help="only this source")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="newest N runs"
)
def runs(config: Config, source_name: str | None, limit: int) -> None:
    """List the newest runs: when, how they were started, how they ended, what they archived.

    Statuses: running, ok, partial (some pages failed), failed, stopped, timed out, skipped
    (the source was being crawled already), interrupted (its process died).

    Example:

        newsvault runs --source example-news --limit 10
    """
    from rich.table import Table

    runlog = _open_runlog(config)
    try:
        rows = runlog.archive.runs(source_name, limit=limit)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        runlog.archive.close()
    table = Table(title="newsvault runs (times in UTC)")
    for col in ("id", "source", "trigger", "started", "took", "status"):
        table.add_column(col, justify="right" if col in ("id", "took") else "left", overflow="fold")
    for name in COUNTERS:
        table.add_column(LABELS[name], justify="right", overflow="fold")
    table.add_column("message", overflow="fold")
    for r in rows:
        took = _span(r["finished_at"] - r["started_at"]) if r["finished_at"] else "-"
        table.add_row(
            str(r["id"]),
            r["source"],
            r["trigger"],
            _when(r["started_at"]),
            took,
            r["status"],
            *(str(r[n]) for n in COUNTERS),
            (r["message"] or "")[:200],
        )
    _console().print(table)


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


@click.command()
@config_option
def status(config: Config) -> None:
    """Show each source's last run, next run and health; exit 1 if any source is unhealthy.

    Unhealthy: the last run failed (or timed out, or its process died), or no run has succeeded
    for longer than daemon.unhealthy_after. Usable as a health check (exit status 0 or 1;
    2 bad config, 3 the archive cannot be opened). Also says whether a daemon is running
    against the archive (for information: the exit status depends on the runs only).

    Example:

        newsvault status --config /etc/newsvault/config.yaml || alert "newsvault unhealthy"
    """
    from rich.table import Table

    from common.dates import utcnow

    if not config.sources:
        fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    runlog = _open_runlog(config)
    now = utcnow()
    table = Table(title="newsvault status (times in UTC)")
    for col in ("source", "schedule", "last run", "status", "last success", "next run", "health"):
        table.add_column(col, overflow="fold")
    problems: list[str] = []
    try:
        daemon_line = _daemon_line(runlog.holder(DAEMON_LOCK), now)
        for source in config.sources:
            hist = runlog.history(source.name)
            ok, why = health(config, hist, now)
            if not ok:
                problems.append(f"{source.name}: {why}")
            table.add_row(*_status_row(config, source, hist, ok, why, now))
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        runlog.archive.close()
    _console().print(table)
    click.echo(daemon_line)
    for problem in problems:
        click.echo(f"newsvault: unhealthy: {problem}", err=True)
    sys.exit(EXIT_FAILED if problems else EXIT_OK)


def _status_row(
    config: Config,
    source: Source,
    hist: Any,
    ok: bool,
    why: str,
    now: datetime,
) -> tuple[str, ...]:
    last = hist.last
    success = hist.last_success
    nxt = next_fire(config, source, now)
    return (
        source.name,
        schedule_of(config, source),
        _when(last["started_at"]) if last else "never",
        _last_status(last),
        _when(success["finished_at"]) if success else "never",
        _when(nxt) if nxt else "-",
        ("ok" if why == "ok" else why) if ok else f"UNHEALTHY: {why}",
    )


def _last_status(last: Any) -> str:
    """The last run's status, and whether it left articles for the next run (the page cap)."""
    if not last:
        return "-"
    over = last.get("urls_over_cap") or 0
    return f"{last['status']}, page cap reached: {over} URLs wait" if over else str(last["status"])


def _daemon_line(holder: Any, now: datetime) -> str:
    if holder is None:
        return "daemon: not running against this archive"
    age = now - holder.heartbeat_at
    if age > timedelta(seconds=STALE_AFTER_SECONDS):
        return (
            f"daemon: not running (its last sign of life was {_span(age)} ago, {holder.describe()})"
        )
    return f"daemon: running, {holder.describe()}"
