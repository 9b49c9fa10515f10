"""Commands for using the archive: ``search``, ``show``, ``export``, ``stats``, ``reextract``.

Reading commands open the archive read-only (they never block a running crawl); ``reextract``
writes. Exit statuses as for every command: 0 done, 1 failed, 2 bad usage (including a bad
search query or an unknown article), 3 the archive could not be opened, read or written.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click

from common.text import printable
from newsvault.cli.common import (
    EXIT_CONFIG,
    check_sources,
    config_option,
    fail,
    no_article,
    open_archive,
    source_option,
)
from newsvault.cli.output import Column, emit, emit_json, json_option, use_table

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["export", "reextract", "search", "show", "stats"]

F = TypeVar("F", bound=Callable[..., Any])
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def date_options(fn: F) -> F:
    """``--since DATE`` / ``--until DATE`` (publication date, inclusive), as ``date`` or None."""
    fn = click.option(
        "--until", type=_DATE, default=None, metavar="DATE", help="published on or before DATE"
    )(fn)
    return click.option(
        "--since",
        type=_DATE,
        default=None,
        metavar="DATE",
        help="published on or after DATE (YYYY-MM-DD)",
    )(fn)


def paywall_option(fn: F) -> F:
    """``--paywalled`` / ``--free``: only articles the page said are (not) free; None: all."""
    return click.option(
        "--paywalled/--free",
        "paywalled",
        default=None,
        help="only paywalled articles (teaser text) / only free ones",
    )(fn)


def _printable(text: str) -> str:
    """Archived text without control characters (no terminal escape sequences reach a tty) or
    bidi overrides (:func:`common.text.printable`)."""
    return printable(text)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.command()
@config_option
@source_option
@date_options
@click.option(
    "--lang", default=None, metavar="CODE", help="only articles in this language (en, de, ...)"
)
@paywall_option
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    metavar="N",
    help="at most N hits (1-1000)",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per hit instead of text")
@click.argument("query")
def search(
    config: Config,
    source_names: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    lang: str | None,
    paywalled: bool | None,
    limit: int,
    as_json: bool,
    query: str,
) -> None:
    """Full-text search over titles and texts, best matches first, with snippets.

    Plain words must all match; "a phrase" in double quotes, OR / NOT between words, word* for
    a prefix, title:word for the title only. Matching words are shown [like this]. A source
    removed from the config is still searchable by --source.

    \b
    Examples:
        newsvault search harbour
        newsvault search '"harbour board" OR dredging' --since 2026-11-01 --limit 5
        newsvault search 'title:harbour' --source harbour-gazette --json
    """
    from storage.search import QuerySyntaxError, SearchQuery, render_marks
    from storage.search import search as run_search

    q = SearchQuery(
        query, tuple(source_names), _day(since), _day(until), lang, limit, paywalled=paywalled
    )
    with open_archive(config) as archive:
        check_sources(config, source_names, archive)
        try:
            hits = run_search(archive.engine, q)
        except QuerySyntaxError as exc:
            fail(str(exc), EXIT_CONFIG)
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.as_dict(), ensure_ascii=False))
        return
    if not hits:
        click.echo(f"no articles match {query!r}", err=True)
        return
    for hit in hits:
        head = click.style(_printable(hit.title or "(no title)"), bold=True)
        click.echo(f"{hit.id:>6}  {head}")
        wall = " · paywalled" if hit.paywalled else ""
        click.echo(
            _printable(
                f"        {hit.source} · {hit.published_at or 'undated'}{wall} · {hit.url}"
            )
        )
        marked = _printable(hit.snippet.replace("\n", " "))
        parts = render_marks(marked, "\x00", "\x00").split("\x00")
        styled = "".join(
            click.style(f"[{p}]", fg="yellow", bold=True) if i % 2 else p
            for i, p in enumerate(parts)
        )
        click.echo(f"        {styled}\n")


@click.command()
@config_option
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="revision N (1 = oldest)",
)
@click.option("--raw", is_flag=True, help="the archived HTML as fetched, not the clean text")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="the article as plain text or as Markdown (headings, lists, quotes, tables, links)",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object: metadata and text")
@click.argument("article")
def show(
    config: Config, revision: int | None, raw: bool, fmt: str, as_json: bool, article: str
) -> None:
    """Print one article: metadata and clean text (or Markdown), or its raw HTML.

    Revisions keep the text only: --format markdown shows the latest article's Markdown.

    ARTICLE is its id or any URL of it (a tracking, AMP or print variant, or an alias); exit
    status 2 when it names no article.

    \b
    Examples:
        newsvault show 1
        newsvault show 1 --json
        newsvault show 1 --revision 1
    """
    if raw and as_json:
        raise click.UsageError("--raw and --json exclude each other")
    from storage.reading import lookup_article
    from storage.revisions import get_revision, revisions_available

    with open_archive(config) as archive:
        art = lookup_article(archive.engine, article)
        if art is None:
            no_article(article)
        sha = art["body_sha256"]
        if revision is not None:
            if not revisions_available(archive.engine):
                fail("this archive keeps no revisions", EXIT_CONFIG)
            rev = get_revision(archive.engine, art["id"], revision)
            if rev is None:
                fail(f"article {art['id']} has no revision {revision}", EXIT_CONFIG)
            art = {
                **art,
                "title": rev["title"],
                "text": rev["text"],
                "revision": revision,
                "revision_at": rev["at"],
            }
            sha = rev["body_sha256"]
        if raw:
            body = archive.raw_body(sha) if sha else None
            if body is None:
                fail("no raw HTML is stored for this article or revision", EXIT_CONFIG)
            out: BinaryIO = sys.stdout.buffer
            out.write(body)
            out.flush()
            return
    if as_json:
        emit_json(art)
        return
    click.echo(click.style(_printable(art["title"] or "(no title)"), bold=True))
    for label, key in (
        ("URL", "url"),
        ("Source", "source"),
        ("Published", "published_at"),
        ("Modified", "modified_at"),
        ("Language", "language"),
        ("Revision", "revision"),
        ("Revision at", "revision_at"),
        ("Fetched", "fetched_at"),
        ("ID", "id"),
    ):
        if art.get(key) not in (None, ""):
            click.echo(_printable(f"{label + ':':<13}{art[key]}"))
    if art.get("authors"):
        click.echo(_printable(f"{'Authors:':<13}{', '.join(art['authors'])}"))
    if art.get("tags"):
        click.echo(_printable(f"{'Tags:':<13}{', '.join(art['tags'])}"))
    if art.get("paywalled"):
        click.echo(f"{'Paywalled:':<13}yes (the text is the free teaser)")
    click.echo("")
    if fmt == "markdown" and revision is None and art.get("markdown"):
        click.echo(_printable(art["markdown"]))
    else:
        click.echo(_printable(art["text"]))


@click.command()
@config_option
@source_option
@date_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "warc"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="file (default: stdout); .warc.gz is gzipped per record, .warc is not",
)
@click.option(
    "--revisions", is_flag=True, help="JSONL: add every revision of each article ('history')"
)
@paywall_option
def export(
    config: Config,
    source_names: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    output: Path | None,
    revisions: bool,
    paywalled: bool | None,
) -> None:
    """Stream the archive as JSON lines, CSV, or WARC (the archived HTTP responses).

    JSONL/CSV: one record per article, with its id, its revisions count, its markdown and
    paywalled (--paywalled / --free select on it); with --revisions, JSONL adds "history", every
    revision (number, seen_at, title, text, ...), oldest first. WARC: a request and a response
    record per fetch, with the stored headers, raw body and fetch time. --since/--until select
    articles by publication date; --source also takes a source since removed from the config.

    \b
    Examples:
        newsvault export > articles.jsonl
        newsvault export --format csv --since 2026-11-01 -o november.csv
        newsvault export --format warc --source harbour-gazette -o harbour.warc.gz
    """
    from newsvault.export import write_csv, write_jsonl
    from newsvault.warc import write_warc
    from storage.reading import iter_fetches

    sources, lo, hi = tuple(source_names), _day(since), _day(until)
    with open_archive(config) as archive:
        check_sources(config, source_names, archive)
        try:
            if fmt == "warc":
                gz = output is None or not output.name.endswith(".warc")
                with _binary_out(output) as bout:
                    fetches = iter_fetches(archive.engine, sources, lo, hi, paywalled=paywalled)
                    write_warc(fetches, bout, gzip=gz)
                return
            rows = archive.iter_articles(
                sources,
                since=lo,
                until=hi,
                revisions=revisions and fmt == "jsonl",
                paywalled=paywalled,
            )
            with _text_out(output) as tout:
                if fmt == "csv":
                    write_csv(rows, tout)
                else:
                    write_jsonl(rows, tout)
        except BrokenPipeError:
            raise  # the reader went away: the main group ends quietly
        except OSError as exc:
            fail(f"cannot write {output or 'stdout'}: {exc.strerror or exc}", EXIT_CONFIG)


@contextmanager
def _binary_out(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with path.open("wb") as f:
        yield f


@contextmanager
def _text_out(path: Path | None) -> Iterator[Any]:
    if path is None:
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield out
        finally:
            out.flush()
            out.detach()  # leave sys.stdout's buffer open
        return
    with path.open("w", encoding="utf-8", newline="") as f:
        yield f


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _dash(value: Any) -> str:
    return "-" if value is None else str(value)


STATS_COLUMNS = (
    Column("source"),
    Column("articles", right=True),
    Column("revisions", right=True, show=_dash),
    Column("first_published", "first", show=lambda d: (d or "-")[:10]),
    Column("last_published", "last", show=lambda d: (d or "-")[:10]),
    Column("runs", right=True),
    Column("failure_rate", "failed", right=True, show=_pct, wrap=True),
    Column("empty_text", "empty", right=True, show=_pct, wrap=True),
    Column("missing_date", "no date", right=True, show=_pct, wrap=True),
    Column("missing_authors", "no author", right=True, show=_pct, wrap=True),
    Column("paywalled", right=True, show=_pct, wrap=True),
)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="a JSON object instead of a table")
def stats(config: Config, as_json: bool) -> None:
    """Per source: articles, revisions, dates, runs, failure rate, extraction health, share of
    paywalled articles; DB size.

    With --json: one object, {"sources": [...], "database_bytes": N}.

    \b
    Examples:
        newsvault stats
        newsvault stats --json
    """
    from storage.reading import database_size, source_stats
    from storage.revisions import revision_counts

    with open_archive(config) as archive:
        rows = source_stats(archive.engine)
        revs = revision_counts(archive.engine)
        size = database_size(archive.engine)
    for row in rows:
        row["revisions"] = revs.get(row["source"]) if revs is not None else None
    if as_json:
        emit_json({"sources": rows, "database_bytes": size})
        return
    size_line = f"database size: {size / 1_048_576:.1f} MiB ({size} bytes)"
    emit(rows, STATS_COLUMNS, as_json=False, title="newsvault archive", notes=[size_line])


@click.command()
@config_option
@source_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="N worker processes (default: all cores)",
)
@json_option
def reextract(
    config: Config, source_names: tuple[str, ...], workers: int | None, as_json: bool
) -> None:
    """Extract every stored article again from its archived HTML; no network requests.

    Run it after upgrading trafilatura or changing cleaning rules. Every change of an article's
    content (title, text, metadata) becomes the article's next revision (see `newsvault
    history`). A new text that would lose more than half of the stored one is not applied: the
    article keeps its text and a failure of kind reextract-shrank records why. Shows a progress
    bar on a terminal; the counts are printed at the end (with --json, as one object).

    \b
    Examples:
        newsvault reextract
        newsvault reextract --source harbour-gazette --json
    """
    from dataclasses import asdict

    from newsvault.reextract import reextract as run
    from pipeline.pipelines import extract_options

    options = {s.name: extract_options(s) for s in config.sources}
    with open_archive(config, readonly=False) as archive:
        check_sources(config, source_names, archive)
        if use_table() and not as_json:
            result = _reextract_with_bar(archive, options, tuple(source_names), workers)
        else:
            result = run(archive, options, tuple(source_names), workers=workers)
    if as_json:
        emit_json(asdict(result))
        return
    click.echo(
        f"{result.examined} articles re-extracted: {result.changed} changed "
        f"({result.revised} kept as a new revision), "
        f"{result.unchanged} unchanged, {result.failed} no longer extractable (kept as they were)"
        + (f", {result.no_body} without stored HTML" if result.no_body else "")
    )
    if result.kept:
        click.echo(
            f"newsvault: {result.kept} article(s) kept their text: the new extraction lost more "
            "than half of it (recorded as failures of kind reextract-shrank)",
            err=True,
        )


def _reextract_with_bar(
    archive: Any, options: dict[str, Any], sources: tuple[str, ...], workers: int | None
) -> Any:
    from newsvault.cli.output import console
    from newsvault.progress import ProgressBar
    from newsvault.reextract import reextract as run

    names = sources or (None,)
    total = sum(archive.count_articles(name) for name in names)
    with ProgressBar(console()) as bar:
        advance = bar.task("re-extracting", total)

        def show(r: Any) -> None:
            advance(
                r.examined + r.no_body,
                f"{r.changed} changed, {r.unchanged} unchanged, {r.failed} failed",
            )

        return run(archive, options, sources, workers=workers, on_progress=show)
