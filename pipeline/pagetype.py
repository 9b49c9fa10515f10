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
from pipeline.clean import norm_line

__all__ = ["PageSignals", "first_text", "in_teasers", "page_signals", "teaser_boxes"]

_NOT_ARTICLE_PATH = re.compile(
    rf"/({'|'.join(LISTING_WORDS)}|topic|topics|sign-in|archive)(/|$|\?)"
    r"|/page/\d+|[?&](s|q|search)=",
    re.IGNORECASE,
)
_LOGIN_WORDS = re.compile(
    r"log[ -]?in|sign[ -]?in|anmelden|einloggen|connexion|se connecter|iniciar sesi[oó]n|"
    r"acceder|accedi|entrar|登录|登入|ログイン",
    re.IGNORECASE,
)
_ARTICLE_OG_TYPES = {"article", "news", "blog", "blogposting", "newsarticle", "video.other"}
_LINKED_HEADINGS = "//h2[.//a] | //h3[.//a] | //h4[.//a] | //a[.//h2 or .//h3 or .//h4]"
_MIN_TEASERS = 4
_MAX_TEASER_CHARS = 800
_PROBE_CHARS = 60
_TEASER_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class PageSignals:
    """article_markup: the markup says it is an article. listing_url: the URL is a home, tag,
    category, search or pagination page. login: a password form on a page named "log in"."""

    article_markup: bool
    listing_url: bool
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
    listing = bool(_NOT_ARTICLE_PATH.search(url)) or (parts.path in ("", "/") and not parts.query)
    return PageSignals(article_markup, listing, login)


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
