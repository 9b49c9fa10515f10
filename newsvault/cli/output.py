"""How every newsvault command prints records: one table, TSV or JSON printer.

- ``--json`` (:func:`json_option`): JSON lines, one object per record (:func:`emit`), or one
  JSON object for a single record (:func:`emit_json`); dates as ISO 8601 strings.
- Otherwise, on a terminal: a table at most 100 columns wide (:func:`emit`), colour unless
  ``NO_COLOR`` is set.
- Otherwise (stdout is a pipe or a file): plain TSV with a header line, one line per record, no
  colour, tabs and line breaks inside values turned into spaces; notes that are not records (a
  total, the daemon's state) go to stderr so stdout stays TSV.

A reader that goes away (``newsvault export | head``) ends the command quietly: the main group
calls :func:`quiet_broken_pipe`, the one place that handles it.

Example::

    COLUMNS = (Column("id", right=True), Column("source"), Column("started_at", "started"))
    emit(rows, COLUMNS, as_json=as_json, title="newsvault runs")
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

__all__ = [
    "MAX_WIDTH",
    "Column",
    "console",
    "emit",
    "emit_json",
    "json_option",
    "note",
    "quiet_broken_pipe",
    "to_json",
    "use_colour",
    "use_table",
]

#: the widest a table gets, whatever the terminal's width
MAX_WIDTH = 100
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the record's ``key``, its ``header`` (default: the key), numbers
    right-aligned, and how a value is shown (default: ``str``; None as "-" in a table), or
    ``cell``, a text made from the whole record. ``wrap``: a table may fold this column's text
    (free text); the others keep one line. ``table`` / ``tsv``: whether the terminal table / the
    TSV has the column (a table can show several fields in one column to fit its width)."""

    key: str
    header: str | None = None
    right: bool = False
    show: Callable[[Any], str] | None = None
    wrap: bool = False
    table: bool = True
    tsv: bool = True
    cell: Callable[[Mapping[str, Any]], str] | None = None

    def text(self, record: Mapping[str, Any]) -> str:
        if self.cell is not None:
            return self.cell(record)
        value = record.get(self.key)
        if self.show is not None:
            return self.show(value)
        return "" if value is None else str(value)


def json_option(fn: F) -> F:
    """``--json``: records as JSON (passed on as ``as_json: bool``)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="JSON (one object per line) instead of a table"
    )(fn)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(obj: Any) -> str:
    """One line of JSON: UTF-8 text as is, datetimes as ISO 8601 strings."""
    return json.dumps(obj, default=_default, ensure_ascii=False)


def emit_json(obj: Any) -> None:
    click.echo(to_json(obj))


def use_table() -> bool:
    """Whether stdout is a terminal (a table) rather than a pipe or file (TSV)."""
    return sys.stdout.isatty()


def use_colour() -> bool:
    """Colour on a terminal unless ``NO_COLOR`` is set (https://no-color.org)."""
    return use_table() and not os.environ.get("NO_COLOR")


def console(*, stderr: bool = False) -> Any:
    """A rich console at most :data:`MAX_WIDTH` wide, colourless under ``NO_COLOR``."""
    from rich.console import Console

    width = min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns)
    return Console(
        width=width,
        stderr=stderr,
        no_color=bool(os.environ.get("NO_COLOR")),
        highlight=False,
    )


def _tsv(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def emit(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    as_json: bool,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> None:
    """Print ``records``: JSON lines (every field of each record), else a table on a terminal,
    else TSV of ``columns``. ``notes`` follow the table, or go to stderr with TSV; none with
    JSON (put what they say into the records)."""
    if as_json:
        for record in records:
            emit_json(dict(record))
        return
    if not use_table():
        columns = [c for c in columns if c.tsv]
        click.echo("\t".join(c.header or c.key for c in columns))
        for record in records:
            click.echo("\t".join(_tsv(c.text(record)) for c in columns))
        for line in notes:
            click.echo(line, err=True)
        return
    from rich import box
    from rich.table import Table

    columns = [c for c in columns if c.table]
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    for c in columns:
        table.add_column(
            c.header or c.key,
            justify="right" if c.right else "left",
            overflow="fold",
            no_wrap=not c.wrap,
        )
    for record in records:
        table.add_row(*(c.text(record) or "-" for c in columns))
    out = console()
    out.print(table)
    for line in notes:
        out.print(line, markup=False)


def note(line: str) -> None:
    """A line that is not a record: on stdout on a terminal, on stderr when stdout is data."""
    click.echo(line, err=not use_table())


def quiet_broken_pipe() -> NoReturn:
    """End the command after its reader went away (``| head``): no message, no traceback,
    exit status 1. Further writes to stdout (at interpreter exit) go to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(1)
