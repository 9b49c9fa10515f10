"""``newsvault failures``: what could not be archived, and why.

Opens the archive read-only. Exit statuses: 0 listed (also when nothing failed), 2 bad usage,
3 the archive could not be opened or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from newsvault.cli.common import config_option, one_source_option, open_archive
from newsvault.cli.output import Column, emit, json_option

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["failures"]


def _when(at: Any) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "-"


COLUMNS = (
    Column("run_id", "run", right=True),
    Column("source"),
    Column("at", "when (UTC)", show=_when),
    Column("kind"),
    Column("status", "HTTP", right=True),
    Column("reason", wrap=True),
    Column("url", wrap=True),
)


@click.command()
@config_option
@one_source_option
@click.option("--run", "run_id", type=click.IntRange(min=1), metavar="N", help="only run N")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    metavar="N",
    help="newest N failures",
)
@json_option
def failures(
    config: Config, source_name: str | None, run_id: int | None, limit: int, as_json: bool
) -> None:
    """List what could not be archived, newest first: the URL, its kind and why.

    Kinds: http, dns, connection, timeout, blocked, redirect, too-large, empty, not-html,
    extraction, storage, ...; an entry point's failure is prefixed feed-, sitemap- or start-.
    The run ids are those of `newsvault runs`.

    \b
    Examples:
        newsvault failures
        newsvault failures --run 1 --json
        newsvault failures --source harbour-gazette --limit 10
    """
    with open_archive(config) as archive:
        rows = archive.failures(run_id, limit, source=source_name)
    if not rows and not as_json:
        click.echo("no failures recorded", err=True)
        return
    emit(rows, COLUMNS, as_json=as_json, title="newsvault failures")
