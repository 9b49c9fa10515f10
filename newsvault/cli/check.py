"""``newsvault check``: is config.yaml valid, and (``--fetch``) what would each source fetch?"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from newsvault.cli.common import EXIT_FAILED, EXIT_OK, check_sources, config_option, source_option

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["check"]


@click.command()
@config_option
@source_option
@click.option(
    "--fetch",
    is_flag=True,
    help="also read each source's feeds, sitemaps and start pages (no article is fetched)",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per source")
def check(config: Config, source_names: tuple[str, ...], fetch: bool, as_json: bool) -> None:
    """Check config.yaml: no archive is opened and, without --fetch, nothing is fetched.

    With --fetch, reaches each source's entry points as a crawl would and reports how many
    article URLs each would yield; nothing is stored. Exit status 2 for a bad config, 1 when a
    source (with --fetch) yields no article URL.

    \b
    Example:
        newsvault check --fetch --source example.com
    """
    check_sources(config, source_names)
    chosen = [config.source(n) for n in source_names] if source_names else list(config.sources)
    if not fetch:
        if not as_json:
            click.echo(f"{config.path}: valid; {len(config.sources)} sources; {config.database}")
        for s in chosen:
            schedule = s.schedule or config.daemon.default_schedule
            row = {
                "source": s.name,
                "feeds": len(s.feeds),
                "sitemaps": len(s.sitemaps),
                "start_urls": len(s.start_urls),
                "schedule": schedule,
            }
            if as_json:
                click.echo(json.dumps(row))
            else:
                click.echo(
                    f"  {s.name}: {len(s.feeds)} feeds, {len(s.sitemaps)} sitemaps,"
                    f" {len(s.start_urls)} start pages; schedule {schedule}"
                )
        sys.exit(EXIT_OK)
    from newsvault.probe import probe_sources

    if not as_json:
        click.echo(f"Reading the entry points of {len(chosen)} sources ...", err=True)
    probes = probe_sources(config, chosen)
    status = EXIT_OK
    for p in probes:
        if not p.article_urls:
            status = EXIT_FAILED
        if as_json:
            row = {
                "source": p.source,
                "article_urls": len(p.article_urls),
                "failures": [{"kind": k, "reason": r} for k, r in p.failures],
                "sample": list(p.article_urls[:3]),
            }
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(f"{p.source}: {len(p.article_urls)} article URLs, {len(p.failures)} failures")
        for url in p.article_urls[:3]:
            click.echo(f"  e.g. {url}")
        for kind, reason in p.failures[:5]:
            click.echo(f"  failed ({kind}): {reason}")
    sys.exit(status)
