"""``newsvault history ARTICLE`` and ``newsvault diff ARTICLE``: what an article said, and when.

Both open the archive read-only. Exit statuses: 0 shown, 2 bad usage (ARTICLE names no
article, or a revision number that does not exist), 3 the archive could not be opened or read.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from common.config import Config
from newsvault.cli.common import EXIT_CONFIG, config_option, fail, no_article, open_archive
from newsvault.textdiff import word_diff

__all__ = ["diff", "history"]


def _load(config: Config, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with open_archive(config) as archive:
        found: tuple[dict[str, Any], list[dict[str, Any]]] | None = archive.history(ref)
    if found is None:
        no_article(ref)
    return found


@click.command()
@config_option
@click.argument("article")
def history(config: Config, article: str) -> None:
    """List the revisions of an article, with when each was first seen.

    ARTICLE is its id or any URL of it (a tracking, AMP or print variant, or an alias); exit
    status 2 when it names no article.

    Example:

        newsvault history https://example.com/2026/11/harbour-dredging/
    """
    art, revisions = _load(config, article)
    click.echo(f"{art['url']}  ({art['source']}, {len(revisions)} revision(s))")
    previous: dict[str, Any] | None = None
    for rev in revisions:
        words = len(rev["text"].split())
        change = ""
        if previous is not None:
            parts = []
            if (previous["title"] or "") != (rev["title"] or ""):
                parts.append("title changed")
            delta = words - len(previous["text"].split())
            parts.append(f"{delta:+d} words")
            change = "  (" + ", ".join(parts) + ")"
        click.echo(f"{rev['number']:>4}  {rev['seen_at']}  {words} words  {rev['title']}{change}")
        previous = rev


@click.command()
@config_option
@click.argument("article")
@click.option("--from", "from_n", type=int, default=None, help="older revision (default: to - 1)")
@click.option("--to", "to_n", type=int, default=None, help="newer revision (default: the last)")
def diff(config: Config, article: str, from_n: int | None, to_n: int | None) -> None:
    """Show a word-level diff between two revisions of an article.

    ARTICLE is its id or any URL of it (a tracking, AMP or print variant, or an alias).
    Deleted words are shown [-like this-], inserted ones {+like this+}; only changed
    paragraphs are printed. Colour is used on a terminal. Exit status 2 when ARTICLE names no
    article or a revision does not exist.

    Example:

        newsvault diff https://example.com/2026/11/harbour-dredging/ --from 1 --to 3
    """
    art, revisions = _load(config, article)
    by_number = {r["number"]: r for r in revisions}
    last = max(by_number)
    to_n = last if to_n is None else to_n
    from_n = to_n - 1 if from_n is None else from_n
    if len(revisions) == 1 and from_n == 0:
        click.echo(f"{art['url']} has one revision only; nothing to compare")
        return
    for n in (from_n, to_n):
        if n not in by_number:
            fail(f"{art['url']} has no revision {n} (it has 1 to {last})", EXIT_CONFIG)
    old, new = by_number[from_n], by_number[to_n]
    colour = sys.stdout.isatty()
    click.echo(f"--- revision {from_n}  {old['seen_at']}")
    click.echo(f"+++ revision {to_n}  {new['seen_at']}")
    if (old["title"] or "") != (new["title"] or ""):
        for line in word_diff(old["title"] or "", new["title"] or "", colour=colour):
            click.echo("title " + line.split("  ", 1)[1])
    changed = word_diff(old["text"], new["text"], colour=colour)
    for para in changed:
        click.echo(para, color=colour)
    if not changed and (old["title"] or "") == (new["title"] or ""):
        click.echo("(no change in title or text)")
