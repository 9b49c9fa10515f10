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
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from common.errors import ConfigError, StorageError

if TYPE_CHECKING:  # imported when needed: ``newsvault --help`` must start fast
    from common.config import Config

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "check_sources",
    "complete_sources",
    "config_option",
    "fail",
    "no_article",
    "open_archive",
    "source_option",
    "verbosity_options",
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
        from common.config import config_path_from_env, load_config

        try:
            config = load_config(config_path or config_path_from_env())
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        return fn(*args, config=config, **kwargs)

    return wrapper  # type: ignore[return-value]


def complete_sources(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``--source``: the names in the config file (``--config`` if given
    on the line so far, else the default); nothing when it cannot be read."""
    from click.shell_completion import CompletionItem

    from common.config import config_path_from_env, load_config

    try:
        config = load_config(ctx.params.get("config_path") or config_path_from_env())
    except (ConfigError, OSError):
        return []
    return [CompletionItem(n) for n in config.source_names if n.startswith(incomplete)]


def source_option(fn: F) -> F:
    return click.option(
        "--source",
        "source_names",
        multiple=True,
        metavar="NAME",
        help="only this source (repeatable; default: all)",
        shell_complete=complete_sources,
    )(fn)


def one_source_option(fn: F) -> F:
    """``--source NAME`` once (passed on as ``source_name``, None for all sources)."""
    return click.option(
        "--source",
        "source_name",
        metavar="NAME",
        default=None,
        help="only this source",
        shell_complete=complete_sources,
    )(fn)


def verbosity_options(fn: F) -> F:
    """``-q/--quiet`` and ``-v/--verbose`` (repeatable), passed on as ``verbosity``: -1 quiet,
    0 normal, 1 and 2 more."""

    @click.option("-q", "--quiet", is_flag=True, help="print errors only")
    @click.option("-v", "--verbose", count=True, help="more detail (-vv: debugging)")
    @functools.wraps(fn)
    def wrapper(*args: Any, quiet: bool, verbose: int, **kwargs: Any) -> Any:
        if quiet and verbose:
            raise click.UsageError("--quiet and --verbose exclude each other")
        return fn(*args, verbosity=-1 if quiet else verbose, **kwargs)

    return wrapper  # type: ignore[return-value]


def check_sources(config: Config, names: Sequence[str], archive: Any = None) -> None:
    """Fail (status 2) on a source name that is not in the config. With ``archive``, a name
    that is there only (a source since removed from the config) is known too."""
    unknown = [n for n in names if n not in config.source_names]
    if unknown and archive is not None:
        from storage.reading import source_names

        archived = source_names(archive.engine)
        unknown = [n for n in unknown if n not in archived]
        if unknown:
            known = sorted({*config.source_names, *archived})
            fail(f"no source named {unknown[0]!r} (known: {', '.join(known)})", EXIT_CONFIG)
    for name in unknown:
        try:
            config.source(name)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
