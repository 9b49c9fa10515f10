"""``newsvault history ARTICLE`` and ``newsvault diff ARTICLE``: what an article said, and when.

Both open the archive read-only. Exit statuses: 0 shown, 2 bad usage (ARTICLE names no
article, or a revision number that does not exist), 3 the archive could not be opened or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from newsvault.cli.common import EXIT_CONFIG, config_option, fail, no_article, open_archive
from newsvault.cli.output import emit_json, json_option, use_colour
from newsvault.textdiff import inline_diff, word_diff

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["diff", "history"]


def _load(config: Config, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with open_archive(config) as archive:
        found: tuple[dict[str, Any], list[dict[str, Any]]] | None = archive.history(ref)
    if found is None:
        no_article(ref)
    return found


@click.command()
@config_option
@json_option
@click.argument("article")
def history(config: Config, as_json: bool, article: str) -> None:
    """List the revisions of an article, with when each was first seen.

    ARTICLE is its id or any URL of it (a tracking, AMP or print variant, or an alias); exit
    status 2 when it names no article. With --json: one object, the article's id, url and
    source and its "revisions" (number, seen_at, title, words, text), oldest first.

    \b
    Examples:
        newsvault history 1
        newsvault history 1 --json
    """
    art, revisions = _load(config, article)
    if as_json:
        revs = [{**r, "words": len(r["text"].split())} for r in revisions]
        emit_json({"id": art["id"], "url": art["url"], "source": art["source"], "revisions": revs})
        return
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
@click.option(
    "--from", "from_n", type=int, default=None, metavar="N", help="older revision (default: to - 1)"
)
@click.option(
    "--to", "to_n", type=int, default=None, metavar="N", help="newer revision (default: the last)"
)
@json_option
def diff(
    config: Config, article: str, from_n: int | None, to_n: int | None, as_json: bool
) -> None:
    """Show a word-level diff between two revisions of an article.

    ARTICLE is its id or any URL of it (a tracking, AMP or print variant, or an alias).
    Deleted words are shown [-like this-], inserted ones {+like this+}; only changed
    paragraphs are printed. Colour is used on a terminal (not under NO_COLOR). Exit status 2
    when ARTICLE names no article or a revision does not exist. With --json: one object with
    both revisions' numbers and times, "changed" (the changed paragraphs, as printed) and
    "title" and "text" as segments [op, text], op same, del or ins.

    \b
    Examples:
        newsvault diff 1
        newsvault diff 1 --json
    """
    art, revisions = _load(config, article)
    by_number = {r["number"]: r for r in revisions}
    last = max(by_number)
    to_n = last if to_n is None else to_n
    from_n = to_n - 1 if from_n is None else from_n
    if len(revisions) == 1 and from_n == 0:
        if as_json:
            emit_json({"id": art["id"], "url": art["url"], "from": None, "to": to_n})
            return
        click.echo(f"{art['url']} has one revision only; nothing to compare")
        return
    for n in (from_n, to_n):
        if n not in by_number:
            fail(f"{art['url']} has no revision {n} (it has 1 to {last})", EXIT_CONFIG)
    old, new = by_number[from_n], by_number[to_n]
    if as_json:
        emit_json(
            {
                "id": art["id"],
                "url": art["url"],
                "from": {"number": from_n, "seen_at": old["seen_at"]},
                "to": {"number": to_n, "seen_at": new["seen_at"]},
                "changed": word_diff(old["text"], new["text"]),
                "title": inline_diff(old["title"] or "", new["title"] or ""),
                "text": inline_diff(old["text"], new["text"]),
            }
        )
        return
    colour = use_colour()
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
