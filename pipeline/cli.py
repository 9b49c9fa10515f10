"""The ``newsvault`` command line.

Exit statuses, for every command: 0 done (a crawl that completed, even if some pages failed;
those are counted and recorded), 1 the work could not be done (every source's run failed),
2 bad usage or a bad config.yaml, 3 the archive could not be opened or written.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.config import Config, config_path_from_env, load_config
from pipeline.errors import ConfigError, StorageError

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_STORAGE = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"newsvault: {message}", err=True)
    sys.exit(code)


def config_option(fn: F) -> F:
    """``--config PATH``, loaded and validated once, passed on as ``config: Config``."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="config file (default: $NEWSVAULT_CONFIG, else ./config.yaml)",
    )
    @functools.wraps(fn)
    def wrapper(*args: Any, config_path: Path | None, **kwargs: Any) -> Any:
        try:
            config = load_config(config_path or config_path_from_env())
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)
        return fn(*args, config=config, **kwargs)

    return wrapper  # type: ignore[return-value]


def source_option(fn: F) -> F:
    return click.option(
        "--source",
        "source_names",
        multiple=True,
        metavar="NAME",
        help="only this source (repeatable; default: all)",
    )(fn)


def _check_sources(config: Config, names: Sequence[str]) -> None:
    for name in names:
        try:
            config.source(name)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)


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
    for col in ("source", "status", "pages", "new", "updated", "unchanged", "skipped", "errors"):
        table.add_column(col, justify="left" if col in ("source", "status") else "right")
    for r in results:
        table.add_row(
            r.source,
            r.status,
            str(r.pages_fetched),
            str(r.articles_new),
            str(r.articles_updated),
            str(r.articles_unchanged),
            str(r.articles_skipped),
            str(r.errors),
        )
    Console(width=100).print(table)


def _crawl(config: Config, names: Sequence[str], limit: int | None, trigger: str) -> int:
    from pipeline.run import run_crawl

    _check_sources(config, names)
    sources = [config.source(n) for n in names] if names else list(config.sources)
    if not sources:
        _fail(f"{config.path}: no sources configured", EXIT_CONFIG)
    try:
        results = run_crawl(config, sources, limit=limit, trigger=trigger)
    except StorageError as exc:
        _fail(str(exc), EXIT_STORAGE)
    _print_summary(results)
    if results and all(r.status == "failed" for r in results):
        click.echo("newsvault: every source failed; see `newsvault runs` and the log", err=True)
        return EXIT_FAILED
    return EXIT_OK


@main.command()
@config_option
@source_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="at most N articles per source")
@click.option(
    "--trigger",
    type=click.Choice(["manual", "schedule"]),
    default="manual",
    hidden=True,
    help="recorded with the run (the daemon passes 'schedule')",
)
def crawl(config: Config, source_names: tuple[str, ...], limit: int | None, trigger: str) -> None:
    """Archive every source (or the named ones) once.

    Prints progress while it runs and a summary table at the end.

    Example:

        newsvault crawl --source example-news --limit 50
    """
    sys.exit(_crawl(config, source_names, limit, trigger))


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
    from pipeline.demo import run_demo

    sys.exit(run_demo(db_path, _print_summary))


if __name__ != "pipeline.cli":  # pragma: no cover
    # Run as a script (`python -m pipeline.cli`, or a worker process's __mp_main__): import the
    # module itself first, so that the command modules below, which import it, find it complete.
    import pipeline.cli

    if __name__ == "__main__":
        pipeline.cli.main()

from pipeline import cli_archive, cli_serve  # noqa: E402, F401  (they register their commands)
