"""``newsvault extract``: one page's clean text with newsvault's extraction; nothing stored."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from common.errors import ConfigError, ExtractionError, NotAnArticle
from newsvault.cli.common import EXIT_CONFIG, EXIT_FAILED, fail

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["extract"]


def _config(path: Path | None) -> Config:
    """The given config; else $NEWSVAULT_CONFIG or ./config.yaml if there is one; else defaults."""
    from common.config import Config, config_path_from_env, load_config

    if path is None:
        path = config_path_from_env()
        if not path.exists():
            return Config()
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@click.command()
@click.argument("page", metavar="URL|FILE|-")
@click.option(
    "--url",
    "page_url",
    default=None,
    metavar="URL",
    help="the page's address, for a FILE or stdin (links and page type are judged by it)",
)
@click.option("--json", "as_json", is_flag=True, help="the article and its metadata as JSON")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="whose crawl settings fetch a URL (default: $NEWSVAULT_CONFIG or ./config.yaml if any)",
)
def extract(page: str, page_url: str | None, as_json: bool, config_path: Path | None) -> None:
    """Print the clean text of one page: a URL (fetched as a crawl would), a FILE, or - (stdin).

    Nothing is stored. Exit status 1 when the page is not an article or cannot be fetched.

    \b
    Example:
        newsvault extract https://www.example.com/2026/11/some-story.html
        curl -s https://www.example.com/story | newsvault extract - --json --url https://www.example.com/story
    """
    from common.decode import decode_page
    from pipeline.extract import extract_article

    if urlsplit(page).scheme in ("http", "https"):
        from newsvault.probe import fetch_page

        fetched = fetch_page(_config(config_path), page)
        if fetched.problem is not None:
            fail(f"cannot fetch {page}: {fetched.problem}", EXIT_FAILED)
        url, html = fetched.url, decode_page(fetched.body, fetched.content_type)
    else:
        try:
            body = sys.stdin.buffer.read() if page == "-" else Path(page).read_bytes()
        except OSError as exc:
            fail(f"{page}: cannot read: {exc.strerror}", EXIT_CONFIG)
        url = page_url or (Path(page).resolve().as_uri() if page != "-" else "file:///stdin")
        html = decode_page(body)
    try:
        article = extract_article(html, url)
    except NotAnArticle as exc:
        fail(f"{url}: not an article: {exc}", EXIT_FAILED)
    except ExtractionError as exc:
        fail(f"{url}: {exc}", EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(asdict(article), ensure_ascii=False, indent=2))
    else:
        if article.title:
            click.echo(f"{article.title}\n")
        click.echo(article.text)
