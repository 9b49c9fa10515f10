"""Is a page an article? Signals from its markup and URL, and the shape of its text.

Listing pages (section fronts, tag and search pages), login forms and home pages are not
articles. Markup that says "article" (JSON-LD, ``og:type``, ``article:published_time``) overrides
the weaker signals, so an article whose sidebar is full of headlines is still an article.

Example::

    signals = page_signals(tree, url, is_article=info.is_article)
    boxes = [] if signals.article_markup else teaser_boxes(tree)
    ...
    if in_teasers(paragraphs, boxes): ...  # the text is a column of teaser summaries
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from common.urls import LISTING_WORDS
from pipeline.clean import norm_line, words

__all__ = [
    "PageSignals",
    "drop_added_teasers",
    "drop_teasers",
    "first_text",
    "in_teasers",
    "page_signals",
    "teaser_boxes",
]

_NOT_ARTICLE_PATH = re.compile(
    rf"/({'|'.join(LISTING_WORDS)}|sign-in|archive)(/|$|\?)|/page/\d+|[?&](s|q|search)=",
    re.IGNORECASE,
)
# a home or topic URL is usually a listing, but some are a story (a blog's front page showing one
# post, a topic page that is an explainer): the text decides
_MAYBE_LISTING_PATH = re.compile(r"/(topic|topics)(/|$|\?)", re.IGNORECASE)
_LOGIN_WORDS = re.compile(
    r"log[ -]?in|sign[ -]?in|anmelden|einloggen|connexion|se connecter|iniciar sesi[oó]n|"
    r"acceder|accedi|entrar|登录|登入|ログイン",
    re.IGNORECASE,
)
_ARTICLE_OG_TYPES = {"article", "news", "blog", "blogposting", "newsarticle", "video.other"}
# a headline that links to another page (not "#" toggles of an FAQ or an accordion)
_TO_PAGE = "@href and not(starts-with(@href, '#')) and not(starts-with(@href, 'javascript'))"
_LINKED_HEADINGS = (
    f"//h2[.//a[{_TO_PAGE}]] | //h3[.//a[{_TO_PAGE}]] | //h4[.//a[{_TO_PAGE}]]"
    f" | //a[({_TO_PAGE}) and (.//h2 or .//h3 or .//h4)]"
)
_MIN_TEASERS = 4
_MAX_TEASER_CHARS = 800
_PROBE_CHARS = 60
_TEASER_SHARE = 0.6
_TEASER_LINE_WORDS = 6


@dataclass(frozen=True, slots=True)
class PageSignals:
    """article_markup: the markup says it is an article. listing_url: the URL is a tag, category,
    search or pagination page. home_url: a home or topic page, a listing unless its text is a
    story. login: a password form on a page named "log in"."""

    article_markup: bool
    listing_url: bool
    home_url: bool
    login: bool


def first_text(tree: HtmlElement, xpath: str) -> str | None:
    """The first non-blank result of an XPath, whitespace-normalised."""
    for value in tree.xpath(xpath):
        text = " ".join(str(value).split())
        if text:
            return text
    return None


def page_signals(tree: HtmlElement, url: str, *, is_article: bool) -> PageSignals:
    """Read the signals from the (untouched) tree and the URL; ``is_article``: JSON-LD says so."""
    og_type = (first_text(tree, '//meta[@property="og:type"]/@content') or "").lower()
    article_markup = (
        is_article
        or og_type in _ARTICLE_OG_TYPES
        or bool(tree.xpath('//meta[@property="article:published_time"]'))
    )
    login = bool(tree.xpath('//form//input[@type="password"]')) and bool(
        _LOGIN_WORDS.search(f"{url} {first_text(tree, '//title/text()') or ''}")
    )
    parts = urlsplit(url)
    listing = bool(_NOT_ARTICLE_PATH.search(url))
    home = bool(_MAYBE_LISTING_PATH.search(url)) or (parts.path in ("", "/") and not parts.query)
    return PageSignals(article_markup, listing, home and not listing, login)


def teaser_boxes(tree: HtmlElement) -> list[str]:
    """Normalised texts of teaser boxes: small blocks around a linked headline. A listing page is
    a column of them, and its "paragraphs" are their summaries."""
    boxes: list[str] = []
    for heading in tree.xpath(_LINKED_HEADINGS):
        box = heading.getparent()
        if box is not None and len(box.text_content()) <= _MAX_TEASER_CHARS:
            boxes.append(norm_line(box.text_content()))
    return boxes if len(boxes) >= _MIN_TEASERS else []


def in_teasers(paras: list[str], boxes: list[str]) -> bool:
    """True when most paragraphs are summaries, each in a different teaser box."""
    if not boxes or not paras:
        return False
    hit: set[int] = set()
    for para in paras:
        probe = norm_line(para)[:_PROBE_CHARS]
        hit.update(i for i, box in enumerate(boxes) if probe in box)
    return len(hit) >= max(_MIN_TEASERS - 1, _TEASER_SHARE * len(paras))


def _box_hits(para: str, boxes: list[str]) -> list[int]:
    probe = norm_line(para)[:_PROBE_CHARS]
    return [i for i, box in enumerate(boxes) if probe in box]


def drop_added_teasers(first: list[str], again: list[str], boxes: list[str]) -> list[str]:
    """The retry's lines without the teaser summaries it added to the first pass's text: a line
    the first pass did not have needs evidence, and sitting in one of three or more teaser boxes
    is evidence against it, unless those lines outweigh the story (a list article whose first
    pass kept only the introduction)."""
    had = set(first)
    hits = [[] if line in had else _box_hits(line, boxes) for line in again]
    teaser_words = sum(words(line) for line, h in zip(again, hits, strict=True) if h)
    if len({i for h in hits for i in h}) < _MIN_TEASERS - 1 or teaser_words >= sum(
        words(line) for line in first
    ):
        return again  # more "teasers" than story: the items of a list article
    return [line for line, h in zip(again, hits, strict=True) if not h]


def drop_teasers(lines: list[str], boxes: list[str]) -> list[str]:
    """Drop a teaser list after the story (mode 3): the trailing lines that each sit in a small
    box around a linked headline, when three boxes or more are hit and the story before them is
    longer than they are. (One hit is a short post whose title links to itself; a list article
    is mostly such items, and stays.)"""
    if not boxes:
        return lines
    hits = [
        _box_hits(line, boxes) if words(line) >= _TEASER_LINE_WORDS else [] for line in lines
    ]
    start = len(lines)
    seen: set[int] = set()
    # walk back over the tail: teaser summaries, and the short lines between them (headlines)
    while start > 0 and (hits[start - 1] or words(lines[start - 1]) < _TEASER_LINE_WORDS):
        start -= 1
        seen.update(hits[start])
    while start < len(lines) and not hits[start]:
        start += 1  # the tail starts at its first summary
    tail_words = sum(words(line) for line in lines[start:])
    if len(seen) < _MIN_TEASERS - 1 or tail_words >= sum(words(ln) for ln in lines[:start]):
        return lines
    return lines[:start]
