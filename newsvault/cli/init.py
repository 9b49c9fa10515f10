"""``newsvault init``: a commented starter config.yaml, and what to run next."""

from __future__ import annotations

from pathlib import Path

import click

from common.errors import ConfigError
from newsvault.cli.common import EXIT_CONFIG, fail

__all__ = ["init"]


@click.command()
@click.argument(
    "directory",
    metavar="[DIR]",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
)
def init(directory: Path) -> None:
    """Write a commented starter config.yaml into DIR (default: here).

    An existing config.yaml is never overwritten (exit status 2). The archive it names,
    newsvault.db, is created next to it by the first crawl.

    \b
    Example:
        newsvault init my-archive
        cd my-archive && newsvault sources add https://www.example.com
    """
    from newsvault.configfile import write_starter

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{directory}: cannot create the folder: {exc.strerror}", EXIT_CONFIG)
    path = directory / "config.yaml"
    try:
        write_starter(path)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    here = directory.resolve() == Path.cwd().resolve()
    cd = "" if here else f"  cd {directory}\n"
    click.echo(
        f"Wrote {path}. Next:\n"
        f"{cd}"
        "  newsvault sources add https://www.example.com   # finds its feeds and sitemaps\n"
        "  newsvault check --fetch                         # what each source would fetch\n"
        "  newsvault crawl                                 # archive once\n"
        "  newsvault serve                                 # browse and search the archive\n"
        "  newsvault daemon                                # keep archiving on schedule"
    )
