"""Paywalled pages: does the page say its article is not free, and which parts are the wall.

A page is paywalled when its schema.org data says ``isAccessibleForFree: false`` (in JSON-LD, on
the article or on a ``hasPart`` of it, or as microdata ``itemprop="isAccessibleForFree"``), or
when it carries a common paywall marker: a class or id naming a paywall box (``paywall``,
``regwall``, Piano's ``tp-container``, ``subscribe-prompt``...) or a walled part of the story
(``meteredContent``, ``premium-content``, ``subscriber-only``...).

:func:`drop_walled` removes, before extraction, what is not the free teaser: the parts that
``hasPart.cssSelector`` names as not free, and the paywall boxes (the "subscribe to read on"
prompt). A part marked only by a class name stays: on some sites (a metered story) it is the
whole story, served in full, and nothing says which part of it would be the teaser.

Example::

    wall = find_paywall(tree)
    if wall.paywalled:
        drop_walled(tree, wall)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.structured import json_ld_objects

__all__ = ["Paywall", "drop_walled", "find_paywall"]

# class/id names (one name of the attribute, lower-cased, matched as whole dash/underscore parts)
# that mark the walled part of a story: evidence of a paywall, never removed (on some sites the
# marked part is the whole story, served in full)
_CONTENT = (
    "meteredcontent",
    "metered-content",
    "premium-content",
    "locked-content",
    "article-locked",
    "subscriber-only",
    "subscribers-only",
    "paid-content",
    "paywalled-content",
)
# ... that name the box asking a reader to pay: evidence too, and removed from a paywalled page
_BOXES = (
    "paywall",
    "pay-wall",
    "regwall",
    "tp-container",
    "tp-modal",
    "piano-offer",
    "piano-paywall",
    "subscription-wall",
    "subscription-required",
    "subscription-prompt",
    "subscribe-prompt",
    "subscribe-wall",
    "subscribe-cta",
    "subscribe-box",
    "subscribe-offer",
    "offer-box",
    "login-wall",
)


def _parts_re(names: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?:^|[-_])(?:{alt})(?:$|[-_])")


_CONTENT_NAME = _parts_re(_CONTENT)
_BOX_NAME = _parts_re(_BOXES)
_MARKER_XPATH = "//*[@class or @id][not(self::html) and not(self::body) and not(self::script)]"
_MAX_BOX_SHARE = 0.4  # a "box" holding this share of the page's text is the story, not a box
_WRAPPERS = ("html", "body", "article", "main")
_STORY = ".//*[self::h1 or @itemprop='articleBody' or self::article]"


@dataclass(frozen=True, slots=True)
class Paywall:
    """``paywalled``: the page says its article is not (all) free. ``selectors``: CSS selectors
    of the parts schema.org marks as not free (``hasPart.cssSelector``)."""

    paywalled: bool = False
    selectors: tuple[str, ...] = ()


def _false(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    return isinstance(value, str) and value.strip().lower() in ("false", "no", "0")


def find_paywall(tree: Any) -> Paywall:
    """What ``tree`` (the untouched page) says about its paywall."""
    walled = False
    selectors: list[str] = []
    for obj in json_ld_objects(tree):
        if _false(obj.get("isAccessibleForFree")):
            walled = True
            sel = obj.get("cssSelector")
            for s in sel if isinstance(sel, list) else [sel]:
                if isinstance(s, str) and s.strip():
                    selectors.append(s.strip())
    for el in tree.xpath('//*[@itemprop="isAccessibleForFree"]'):
        if _false(el.get("content") or el.get("value") or el.text_content()):
            walled = True
    if not walled:
        walled = any(_is_marker(el) for el in tree.xpath(_MARKER_XPATH))
    return Paywall(walled, tuple(dict.fromkeys(selectors)))


def _names(el: Any) -> list[str]:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower().split()


def _is_marker(el: Any) -> bool:
    return any(_BOX_NAME.search(n) or _CONTENT_NAME.search(n) for n in _names(el))


def _is_box(el: Any) -> bool:
    return any(_BOX_NAME.search(n) for n in _names(el))


def _holds_story(el: Any) -> bool:
    return el.tag in _WRAPPERS or bool(el.xpath(_STORY))


def drop_walled(tree: Any, wall: Paywall) -> None:
    """Remove from ``tree`` the parts schema.org marks as not free and the paywall boxes,
    keeping their tails. A part that holds the story itself (its headline, its body, the whole
    article) is kept: the page then keeps what it served."""
    from lxml.cssselect import CSSSelector

    doomed: list[Any] = []
    for sel in wall.selectors:
        try:
            doomed.extend(el for el in CSSSelector(sel)(tree) if not _holds_story(el))
        except Exception:  # a selector cssselect cannot read: the boxes below still go
            continue
    page_chars = max(1, len(" ".join(tree.xpath("//body//text()")).strip()))
    doomed.extend(
        el
        for el in tree.xpath(_MARKER_XPATH)
        if _is_box(el)
        and not _holds_story(el)
        and len(el.text_content()) <= _MAX_BOX_SHARE * page_chars
    )
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()
