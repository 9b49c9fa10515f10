"""``newsvault sources add|list|remove``: the sources of config.yaml.

``add`` finds a site's feeds and sitemaps from its home page and appends a source to
config.yaml, keeping the file's comments and layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from common.errors import ConfigError
from newsvault.cli.common import EXIT_CONFIG, EXIT_FAILED, fail

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["sources"]

_config_path = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="config file (default: $NEWSVAULT_CONFIG, else ./config.yaml)",
)


def _load(path: Path | None) -> tuple[Path, Config]:
    from common.config import config_path_from_env, load_config

    path = path or config_path_from_env()
    try:
        return path, load_config(path)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@click.group()
def sources() -> None:
    """Add, list and remove the sources of config.yaml.

    \b
    Example:
        newsvault sources add https://www.example.com --schedule "*/30 * * * *"
        newsvault sources list
        newsvault sources remove example.com
    """


def _name_for(url: str) -> str:
    host = (urlsplit(url).hostname or "site").lower().removeprefix("www.")
    return host[:64]


def _source_entry(
    name: str, url: str, found: Any, schedule: str | None
) -> tuple[dict[str, Any], str | None]:
    """The source to append, and a note when it has no feed or sitemap."""
    entry: dict[str, Any] = {"name": name}
    feeds, sitemaps = found.feeds(), found.sitemaps()
    note = None
    if feeds:
        entry["feeds"] = feeds
    if sitemaps:
        entry["sitemaps"] = sitemaps
    if not feeds and not sitemaps:
        entry["start_urls"] = [url]
        note = "no feed or sitemap found: the crawl will follow the home page's article links"
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    entry["allowed_domains"] = [host]
    if schedule:
        entry["schedule"] = schedule
    return entry, note


@sources.command("add")
@_config_path
@click.argument("url")
@click.option("--name", default=None, help="the source's name (default: the site's host name)")
@click.option(
    "--schedule",
    metavar="CRON",
    default=None,
    help="when the daemon crawls it, as cron: '*/30 * * * *' (default: daemon.default_schedule)",
)
def add(config_path: Path | None, url: str, name: str | None, schedule: str | None) -> None:
    """Find a site's feeds and sitemaps from its home page URL and add it as a source.

    Looks at the home page's <link rel=alternate> feeds, common feed paths, robots.txt's
    Sitemap: lines, /sitemap.xml, /sitemap_index.xml and news sitemaps; shows what it found
    and appends the source to config.yaml (comments and layout kept). Nothing is archived.
    Exit status 1 when the site could not be read, 2 for a bad URL, name or schedule.

    \b
    Example:
        newsvault sources add https://www.example.com --name example --schedule "15 * * * *"
    """
    from pydantic import ValidationError

    from common.config import Source
    from newsvault.configfile import add_source
    from newsvault.probe import discover

    path, config = _load(config_path)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"not an http(s) URL: {url!r}", EXIT_CONFIG)
    name = name or _name_for(url)
    if name in config.source_names:
        fail(f"{path}: a source named {name!r} exists already (give --name)", EXIT_CONFIG)
    try:  # the name and schedule are checked before anything is fetched
        Source(name=name, start_urls=(url,), schedule=schedule)
    except ValidationError as exc:
        why = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'source'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        fail(f"source {name!r}: {why}", EXIT_CONFIG)
    click.echo(f"Looking for feeds and sitemaps of {url} ...", err=True)
    found = discover(config, url)
    if found.home_problem and not found.found:
        fail(f"cannot read {url}: {found.home_problem}; nothing added", EXIT_FAILED)
    for e in found.found:
        via = f"listed in {e.via}" if e.via.startswith("http") else f"from {e.via}"
        problem = f"  (broken: {e.problem})" if e.problem else ""
        click.echo(f"  {e.kind:<8} {e.url}  {e.entries} links, {via}{problem}")
    entry, note = _source_entry(name, url, found, schedule)
    if note:
        click.echo(f"  {note}")
    try:
        add_source(path, entry)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    used = len(entry.get("feeds", ())) + len(entry.get("sitemaps", ()))
    click.echo(
        f"Added source {name!r} to {path} ({used or 'no'} feeds/sitemaps).\n"
        f"Next: newsvault check --fetch --source {name}  then  newsvault crawl --source {name}"
    )


@sources.command("list")
@_config_path
@click.option("--json", "as_json", is_flag=True, help="one JSON object per source")
def list_sources(config_path: Path | None, as_json: bool) -> None:
    """List the sources of config.yaml with their entry points and schedules.

    \b
    Example:
        newsvault sources list --json
    """
    _, config = _load(config_path)
    for s in config.sources:
        schedule = s.schedule or config.daemon.default_schedule
        if as_json:
            row = {
                "name": s.name,
                "feeds": list(s.feeds),
                "sitemaps": list(s.sitemaps),
                "start_urls": list(s.start_urls),
                "domains": list(s.domains),
                "schedule": schedule,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        kinds = [
            (len(s.feeds), "feeds"),
            (len(s.sitemaps), "sitemaps"),
            (len(s.start_urls), "start"),
        ]
        points = ", ".join(f"{n} {label}" for n, label in kinds if n)
        click.echo(f"{s.name}\t{points}\t{schedule}")


@sources.command("remove")
@_config_path
@click.argument("name")
def remove(config_path: Path | None, name: str) -> None:
    """Remove a source from config.yaml (its archived articles stay in the archive).

    \b
    Example:
        newsvault sources remove example.com
    """
    from common.config import config_path_from_env
    from newsvault.configfile import remove_source

    path = config_path or config_path_from_env()
    try:
        remove_source(path, name)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    click.echo(f"Removed source {name!r} from {path}.")
