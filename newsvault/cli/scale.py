"""Scale-out commands: ``newsvault worker`` (the shared frontier) and ``newsvault copy``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from common.errors import ConfigError, StorageError
from newsvault.cli.common import EXIT_CONFIG, EXIT_OK, EXIT_STORAGE, config_option, fail

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["copy", "worker"]


@click.command()
@config_option
@click.option(
    "--exit-when-idle",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="stop once the frontier has had nothing to do for this long (default: run until stopped)",
)
@click.option(
    "--extract-workers",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="extraction processes (default: up to 4, one per core)",
)
def worker(config: Config, exit_when_idle: float | None, extract_workers: int | None) -> None:
    """Fetch, extract and store what the shared frontier holds, until stopped (SIGTERM: finish
    what is in flight, exit 0). Needs `frontier: redis://...` in the config; run as many as you
    like, on any machine that reaches the archive and the frontier.

    \b
    Example:
        newsvault worker --config config.yaml --exit-when-idle 60
    """
    from newsvault.worker import run_worker

    try:
        done = run_worker(config, exit_when_idle=exit_when_idle, extract_workers=extract_workers)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    click.echo(f"worker: {done} requests handled", err=True)
    raise SystemExit(EXIT_OK)


@click.command()
@config_option
@click.option("--to", "target", required=True, metavar="URL", help="database URL of the copy")
@click.option(
    "--resume",
    is_flag=True,
    help="continue an interrupted copy into a target that holds part of it already",
)
def copy(config: Config, target: str, resume: bool) -> None:
    """Copy the configured archive (articles, revisions, aliases, bodies, runs, failures) into
    another database, e.g. SQLite to PostgreSQL (--to postgresql+psycopg://USER@HOST/DB).
    Refuses a target that is not empty unless --resume is given.

    \b
    Example:
        newsvault copy --to sqlite:///archive-copy.db
    """
    from newsvault.cli.output import use_table

    if not use_table():  # not a terminal: the summary line alone
        result = _copy(config.database, target, resume, None)
    else:
        from newsvault.cli.output import console
        from newsvault.progress import ProgressBar

        with ProgressBar(console()) as bar:
            shown: dict[str, Callable[[int, str], None]] = {}

            def progress(table: str, rows: int) -> None:
                if table not in shown:
                    shown[table] = bar.counter(f"copying {table}")
                shown[table](rows, f"{rows} rows")

            result = _copy(config.database, target, resume, progress)
    total = sum(result.copied.values())
    parts = ", ".join(f"{n} {c}" for n, c in result.copied.items() if c)
    click.echo(f"copied {total} rows ({parts or 'nothing new'})")


def _copy(
    source: str, target: str, resume: bool, progress: Callable[[str, int], None] | None
) -> Any:
    from storage.copy import copy_archive

    try:
        return copy_archive(source, target, resume=resume, progress=progress)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
