"""The ``newsvault`` command line.

Exit statuses, for every command: 0 done (a crawl that completed, even if some pages failed;
those are counted and recorded), 1 the work could not be done (every source's run failed),
2 bad usage or a bad config.yaml (also: an article or revision that is not in the archive),
3 the archive could not be opened or written. A closed pipe (``newsvault export | head``) ends
any command quietly with status 1.

Records are printed by one printer (:mod:`newsvault.cli.output`): a table on a terminal, TSV
otherwise, JSON lines with ``--json``. Command modules import only click and this package's
light modules at import time, so ``newsvault --help`` (and shell completion) starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from common.errors import ConfigError, StorageError
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
    verbosity_options,
)
from newsvault.cli.output import Column, emit, json_option, quiet_broken_pipe, use_table

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "main"]


class NewsvaultGroup(click.Group):
    """The main group: ``NO_COLOR`` switches colour off, a closed pipe ends quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        if os.environ.get("NO_COLOR"):
            ctx.color = False
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            quiet_broken_pipe()


@click.group(cls=NewsvaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsvault")
def main() -> None:
    """newsvault: a clean, searchable, revision-keeping archive of news sites.

    Every command reads config.yaml (--config PATH, else $NEWSVAULT_CONFIG, else
    ./config.yaml). Try it on the bundled sample site, offline:

    \b
        newsvault demo --db /tmp/demo.db
        export NEWSVAULT_CONFIG=/tmp/demo.yaml
        newsvault search harbour
        newsvault runs
    """


SUMMARY = (
    Column("source"),
    Column("status"),
    *(Column(name, LABELS[name], right=True) for name in COUNTERS),
)


def _print_summary(results: Sequence[Any], as_json: bool = False) -> None:
    """The crawl's summary: one record per source (a :class:`newsvault.crawl.RunResult`)."""
    from dataclasses import asdict

    rows = [asdict(r) for r in results]
    emit(rows, SUMMARY, as_json=as_json, title="newsvault crawl summary")


def _explain_failures(config: Config, results: Sequence[Any]) -> None:
    """One line on stderr per source whose run had failures: its most frequent reasons (the
    run's message). Nothing when the archive cannot be read now: the summary has the counts."""
    from storage.repository import Archive

    failed = [r for r in results if r.run_id is not None and r.errors]
    if not failed:
        return
    try:
        archive = Archive.open(config.database, readonly=True)
        try:
            runs = {r.run_id: archive.run(r.run_id) for r in failed}
        finally:
            archive.close()
    except StorageError:
        return
    for r in failed:
        run = runs[r.run_id]
        if run is not None and run["message"]:
            click.echo(
                f"newsvault: {r.source}: {run['message']} "
                f"(see `newsvault failures --run {r.run_id}`)",
                err=True,
            )


def _crawl(
    config: Config,
    names: Sequence[str],
    limit: int | None,
    trigger: str,
    progress_interval: float = 2.0,
    verbosity: int = 0,
    as_json: bool = False,
) -> int:
    from contextlib import nullcontext

    from newsvault.crawl import run_crawl

    check_sources(config, names)
    sources = [config.source(n) for n in names] if names else list(config.sources)
    if not sources:
        fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    quiet = verbosity < 0
    level = {-1: "ERROR", 0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")
    interval = 0.0 if quiet else progress_interval
    bar: Any = None
    if interval > 0 and use_table() and not as_json:
        from newsvault.cli.output import console
        from newsvault.progress import ProgressBar

        bar, interval = ProgressBar(console()), min(interval, 0.25)
    try:
        with bar or nullcontext():
            results = run_crawl(
                config,
                sources,
                limit=limit,
                trigger=trigger,
                progress_interval=interval,
                progress=bar,  # None: lines on stderr
                log_level=level,
            )
    except ConfigError as exc:  # e.g. a frontier without the redis package
        fail(str(exc), EXIT_CONFIG)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    for r in results:
        if r.status == "skipped":
            click.echo(f"newsvault: {r.source}: skipped, {r.message}", err=True)
    if not quiet or as_json:
        _print_summary(results, as_json)
    for r in results:
        capped = cap_message(r.urls_over_cap)
        if capped:
            click.echo(f"newsvault: {r.source}: {capped}", err=True)
    _explain_failures(config, results)
    if results and all(r.status == "failed" for r in results):
        click.echo("newsvault: every source failed; see `newsvault failures`", err=True)
        return EXIT_FAILED
    return EXIT_OK


@main.command()
@config_option
@source_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="at most N articles per source",
)
@verbosity_options
@json_option
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
    verbosity: int,
    as_json: bool,
    trigger: str,
    progress_interval: float,
) -> None:
    """Archive every source (or the named ones) once.

    Shows a progress bar on a terminal (progress lines on stderr otherwise), then a summary
    per source, and the most frequent failure reasons of a source whose pages failed. With
    --quiet, only errors. Exit status 1 when every source failed.

    \b
    Examples:
        newsvault crawl
        newsvault crawl --source harbour-gazette --limit 5
        newsvault crawl --quiet || echo "the crawl failed"
    """
    sys.exit(_crawl(config, source_names, limit, trigger, progress_interval, verbosity, as_json))


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
from newsvault.cli import failures as cli_failures  # noqa: E402
from newsvault.cli import history as cli_history  # noqa: E402
from newsvault.cli import scale as cli_scale  # noqa: E402
from newsvault.cli import serve as cli_serve  # noqa: E402
from newsvault.cli.check import check  # noqa: E402
from newsvault.cli.extract import extract  # noqa: E402
from newsvault.cli.init import init  # noqa: E402
from newsvault.cli.sources import sources  # noqa: E402

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
main.add_command(cli_failures.failures)
main.add_command(cli_daemon.status)
main.add_command(init)
main.add_command(sources)
main.add_command(check)
main.add_command(extract)
main.add_command(cli_scale.worker)
main.add_command(cli_scale.copy)
