"""What every newsvault command shares: exit statuses, ``--config``, ``--source``, opening the
archive, failing.

Command modules import from here, never from ``newsvault.cli`` (which imports them), so there is
no import cycle whichever module is loaded first.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from common.config import Config, config_path_from_env, load_config
from common.errors import ConfigError, StorageError

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "check_sources",
    "config_option",
    "fail",
    "no_article",
    "open_archive",
    "source_option",
]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_STORAGE = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"newsvault: {message}", err=True)
    sys.exit(code)


@contextmanager
def open_archive(config: Config, *, readonly: bool = True) -> Iterator[Any]:
    """The archive, opened read-only by default; storage errors end the command with status 3."""
    from storage.repository import Archive

    try:
        archive = Archive.open(config.database, readonly=readonly)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    try:
        yield archive
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    finally:
        archive.close()


def no_article(ref: str) -> NoReturn:
    """The one answer of every command to a reference that names no article: bad usage (2)."""
    fail(f"no article {ref!r} in the archive", EXIT_CONFIG)


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
            fail(str(exc), EXIT_CONFIG)
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


def check_sources(config: Config, names: Sequence[str]) -> None:
    for name in names:
        try:
            config.source(name)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
