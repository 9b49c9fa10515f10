"""The ``newsvault`` command line.

Exit statuses, for every command: 0 done (a crawl that completed, even if some pages failed;
those are counted and recorded), 1 the work could not be done (every source's run failed),
2 bad usage or a bad config.yaml (also: an article or revision that is not in the archive),
3 the archive could not be opened or written.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from common.config import Config
from common.errors import StorageError
from common.runs import COUNTERS, LABELS, cap_message
from newsvault.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STORAGE,
    check_sources,
    config_option,
    fail,
    source_option,
)

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsvault")
def main() -> None:
    """newsvault: a clean, searchable, revision-keeping archive of news sites.

    Example:

        newsvault crawl --config config.yaml
    """


def _print_summary(results: Sequence[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="newsvault crawl summary")
    table.add_column("source")
    table.add_column("status")
    for name in COUNTERS:
        table.add_column(LABELS[name], justify="right")
    for r in results:
        table.add_row(r.source, r.status, *(str(getattr(r, name)) for name in COUNTERS))
    Console(width=100).print(table)


def _crawl(
    config: Config,
    names: Sequence[str],
    limit: int | None,
    trigger: str,
    progress_interval: float = 2.0,
) -> int:
    from newsvault.crawl import run_crawl

    check_sources(config, names)
    sources = [config.source(n) for n in names] if names else list(config.sources)
    if not sources:
        fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    try:
        results = run_crawl(
            config, sources, limit=limit, trigger=trigger, progress_interval=progress_interval
        )
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    for r in results:
        if r.status == "skipped":
            click.echo(f"newsvault: {r.source}: skipped, {r.message}", err=True)
    _print_summary(results)
    for r in results:
        capped = cap_message(r.urls_over_cap)
        if capped:
            click.echo(f"newsvault: {r.source}: {capped}", err=True)
    if results and all(r.status == "failed" for r in results):
        click.echo("newsvault: every source failed; see `newsvault runs` and the log", err=True)
        return EXIT_FAILED
    return EXIT_OK


@main.command()
@config_option
@source_option
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="at most N articles per source"
)
@click.option(
    "--trigger",
    type=click.Choice(["manual", "schedule"]),
    default="manual",
    hidden=True,
    help="recorded with the run (the daemon passes 'schedule')",
)
@click.option(
    "--progress-interval",
    type=click.FloatRange(min=0),
    default=2.0,
    hidden=True,
    help="seconds between progress lines on stderr; 0: none (the daemon passes its own)",
)
def crawl(
    config: Config,
    source_names: tuple[str, ...],
    limit: int | None,
    trigger: str,
    progress_interval: float,
) -> None:
    """Archive every source (or the named ones) once.

    Prints progress while it runs and a summary table at the end.

    Example:

        newsvault crawl --source example-news --limit 50
    """
    sys.exit(_crawl(config, source_names, limit, trigger, progress_interval))


@main.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("newsvault-demo.db"),
    show_default=True,
    help="SQLite file to create (replaced if it exists)",
)
def demo(db_path: Path) -> None:
    """Archive the bundled sample news site, with no internet.

    Serves the site on 127.0.0.1 (a free port), crawls it into a fresh SQLite file, prints the
    summary and one cleaned article.

    Example:

        newsvault demo --db /tmp/demo.db
    """
    from newsvault.demo import run_demo

    sys.exit(run_demo(db_path, _print_summary))


from newsvault.cli import archive as cli_archive  # noqa: E402
from newsvault.cli import daemon as cli_daemon  # noqa: E402
from newsvault.cli import history as cli_history  # noqa: E402
from newsvault.cli import serve as cli_serve  # noqa: E402

main.add_command(cli_archive.search)
main.add_command(cli_archive.show)
main.add_command(cli_archive.export)
main.add_command(cli_archive.stats)
main.add_command(cli_archive.reextract)
main.add_command(cli_serve.serve)
main.add_command(cli_history.history)
main.add_command(cli_history.diff)
main.add_command(cli_daemon.daemon)
main.add_command(cli_daemon.runs)
main.add_command(cli_daemon.status)
