"""Paywalled pages: does the page say its article is not free, and which parts are the wall.

A page is paywalled when its schema.org data says ``isAccessibleForFree: false`` (in JSON-LD, on
the article or on a ``hasPart`` of it, or as microdata ``itemprop="isAccessibleForFree"``), or
when it carries a common paywall marker: an element whose class or id names a paywall
(``paywall``, ``piano``/``tp-container``, ``premium-content``, ``subscriber-only``,
``regwall``, ``meteredContent``...).

:func:`drop_walled` removes, before extraction, what is not the free teaser: the parts that
``hasPart.cssSelector`` names as not free, and the paywall boxes (the "subscribe to read on"
prompt), so a paywalled article keeps its teaser text only.

Example::

    wall = find_paywall(tree)
    if wall.paywalled:
        drop_walled(tree, wall)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Paywall", "drop_walled", "find_paywall"]

# class/id words naming a paywall box or the walled part of an article
_MARKER = re.compile(
    r"(?:^|[\s_-])(?:paywall(?:ed)?|pay-wall|regwall|piano-(?:offer|paywall)|tp-(?:container|modal)"
    r"|premium-(?:content|article|paywall|wall)|subscriber-only|subscribers-only"
    r"|subscription-(?:wall|required|prompt)|metered-?content|meteredcontent|article-locked"
    r"|locked-content|plus-content)(?:$|[\s_-])",
    re.IGNORECASE,
)
# class/id words naming a box that asks a reader to pay: removed from a paywalled page only
_BOX = re.compile(
    r"(?:^|[\s_-])(?:subscribe-(?:prompt|wall|cta|box|offer)|subscription-(?:box|offer|cta)"
    r"|piano|offer-box|login-wall)(?:$|[\s_-])",
    re.IGNORECASE,
)
_MARKER_XPATH = "//*[@class or @id][not(self::html) and not(self::body) and not(self::script)]"

_WRAPPERS = ("html", "body", "article", "main")
_STORY = ".//*[self::h1 or @itemprop='articleBody' or self::article]"


@dataclass(frozen=True, slots=True)
class Paywall:
    """``paywalled``: the page says its article is not (all) free. ``selectors``: CSS selectors
    of the parts schema.org marks as not free (``hasPart.cssSelector``)."""

    paywalled: bool = False
    selectors: tuple[str, ...] = ()


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _false(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    return isinstance(value, str) and value.strip().lower() in ("false", "no", "0")


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            yield from _walk(json.loads((script.text or "").strip() or "null", strict=False))
        except ValueError:
            continue


def find_paywall(tree: Any) -> Paywall:
    """What ``tree`` (the untouched page) says about its paywall."""
    walled = False
    selectors: list[str] = []
    for obj in _json_ld(tree):
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


def _names(el: Any) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _is_marker(el: Any) -> bool:
    return bool(_MARKER.search(_names(el)))


def drop_walled(tree: Any, wall: Paywall) -> None:
    """Remove the not-free parts and the paywall boxes from ``tree``, keeping their tails."""
    from lxml.cssselect import CSSSelector

    doomed: list[Any] = []
    for sel in wall.selectors:
        try:
            doomed.extend(CSSSelector(sel)(tree))
        except Exception:  # a selector cssselect cannot read: the markers below still apply
            continue
    # a marker on a wrapper of the whole story (<article class="paywalled">) is not the box
    doomed.extend(
        el
        for el in tree.xpath(_MARKER_XPATH)
        if (_is_marker(el) or _BOX.search(_names(el)))
        and el.tag not in _WRAPPERS
        and not el.xpath(_STORY)
    )
    for el in doomed:
        if el.getparent() is not None and el.tag not in _WRAPPERS:
            el.drop_tree()
