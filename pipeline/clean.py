"""Boilerplate removal around extraction: prune known widgets before, filter lines after."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree
from lxml.html import HtmlElement

from pipeline.prune_rules import RuleSet

__all__ = ["BOILERPLATE_LINES", "clean_text", "prune_tree"]

# Elements that are never part of an article: comment forms and threads, rating and voting
# widgets, share bars, newsletter boxes, related-post lists, cookie notices.
_PRUNE_XPATHS = (
    '//*[@id="comments" or @id="respond" or @id="disqus_thread" or @id="reply-title"]',
    '//*[contains(concat(" ", normalize-space(@class), " "), " comment-respond ")]',
    '//*[contains(concat(" ", normalize-space(@class), " "), " comments-area ")]',
    '//*[contains(concat(" ", normalize-space(@class), " "), " comment-list ")]',
    '//form[contains(@class, "comment") or contains(@id, "comment")]',
    '//*[contains(@class, "post-ratings") or contains(@class, "rating-widget")]',
    '//*[contains(@class, "sharedaddy") or contains(@class, "share-buttons")]',
    '//*[contains(@class, "newsletter") or contains(@class, "cookie")]',
    '//*[contains(@class, "related-posts") or contains(@class, "jp-relatedposts")]',
)

_BUILTIN_RULES = RuleSet(_PRUNE_XPATHS)

# Lines that slip through extraction; matched against a whole, stripped line.
BOILERPLATE_LINES = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"no votes yet\.?",
        r"please wait\.*",
        r"leave a (reply|comment)",
        r"your email address will not be published\.?.*",
        r"required fields are marked \*?",
        r"(share|tweet|email|print) (this|on \w+)\.?",
        r"click to (share|print|email).*",
        r"like this:?",
        r"related( posts| articles)?:?",
        r"sign up for our newsletter.*",
        r"this (web)?site uses cookies.*",
        r"read more\.*",
    )
)


def prune_tree(tree: HtmlElement, xpaths: Iterable[str] = (), css: Iterable[str] = ()) -> None:
    """Remove known boilerplate elements, plus a source's own selectors, in place."""
    from lxml.cssselect import CSSSelector

    doomed: list[etree._Element] = _BUILTIN_RULES.matches(tree)  # = each of _PRUNE_XPATHS, fast
    for xp in xpaths:
        doomed.extend(tree.xpath(xp))
    for sel in css:
        doomed.extend(CSSSelector(sel)(tree))
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            tail = el.tail
            parent.remove(el)
            if tail and tail.strip():
                prev = parent
                prev.text = (prev.text or "") + tail


def clean_text(text: str, *, title: str | None = None, drop_lines: Iterable[str] = ()) -> str:
    """Normalise extracted text: paragraphs separated by blank lines, boilerplate lines removed,
    the title not repeated as the first line."""
    extra = [re.compile(p) for p in drop_lines]
    lines: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if any(p.fullmatch(line) for p in BOILERPLATE_LINES) or any(p.search(line) for p in extra):
            continue
        lines.append(line)
    if title and lines and lines[0].casefold() == " ".join(title.split()).casefold():
        lines.pop(0)
    return "\n\n".join(lines)
