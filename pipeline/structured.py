"""Structured data a page carries about its article: JSON-LD and schema.org microdata.

Many news pages describe the article in JSON-LD (``NewsArticle`` with ``articleBody``, ``headline``,
``author``, ``datePublished``...) or mark the body up with ``itemprop="articleBody"``. This module
reads that evidence from a parsed page; :mod:`pipeline.extract` decides how much to trust it.

Example::

    info = read_structured(tree)
    info.body, info.authors, info.published
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

__all__ = ["StructuredInfo", "json_ld_objects", "read_structured"]

_ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
    "scholarlyarticle", "report", "socialmediaposting", "liveblogposting", "posting",
}
_MIN_BODY_CHARS = 200


@dataclass(frozen=True, slots=True)
class StructuredInfo:
    """What JSON-LD / microdata say about the article (each field None or empty if unsaid)."""

    body: str | None = None
    headline: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    keywords: tuple[str, ...] = ()
    is_article: bool = False


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    items = t if isinstance(t, list) else [t]
    return {str(i).lower() for i in items if i}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return " ".join(value.split()) or None
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        name = _text(item)
        if name and not name.startswith(("http://", "https://")):
            out.append(name)
    return tuple(dict.fromkeys(out))


def _keywords(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = re.split(r"\s*,\s*", value)
    elif isinstance(value, list):
        parts = [str(v) for v in value]
    else:
        return ()
    return tuple(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object (nested ones too) of the page's JSON-LD scripts; broken ones skipped."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        yield from _walk(data)


def _body_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "<" in value and ">" in value:  # some sites put HTML in articleBody
        from lxml.html import fragment_fromstring

        try:
            value = fragment_fromstring(value, create_parent="div").text_content()
        except (ValueError, TypeError):
            return None
    text = "\n".join(" ".join(line.split()) for line in value.splitlines())
    text = re.sub(r"\n{2,}", "\n", text).strip()
    return text if len(text) >= _MIN_BODY_CHARS else None


def _microdata_body(tree: HtmlElement) -> str | None:
    for el in tree.xpath('//*[@itemprop="articleBody"]'):
        lines = [" ".join(t.split()) for t in el.itertext()]
        text = "\n".join(line for line in lines if line)
        if len(text) >= _MIN_BODY_CHARS:
            return text
    return None


def read_structured(tree: HtmlElement) -> StructuredInfo:
    """Read the article's JSON-LD (first article-typed object wins) and microdata body."""
    article: dict[str, Any] | None = None
    for obj in json_ld_objects(tree):
        if _types(obj) & _ARTICLE_TYPES:
            if article is None or ("articleBody" in obj and "articleBody" not in article):
                article = obj
    body = _body_text(article.get("articleBody")) if article else None
    if body is None:
        body = _microdata_body(tree)
    if article is None:
        return StructuredInfo(body=body)
    return StructuredInfo(
        body=body,
        headline=_text(article.get("headline") or article.get("name")),
        authors=_names(article.get("author") or article.get("creator")),
        published=_text(article.get("datePublished") or article.get("dateCreated")),
        modified=_text(article.get("dateModified")),
        language=_text(article.get("inLanguage")),
        keywords=_keywords(article.get("keywords")),
        is_article=True,
    )
