"""Normalising article metadata: author and tag lists, ISO 8601 dates, headline clean-up.

Pure helpers for :mod:`pipeline.extract` (which gathers the raw values with trafilatura).

Example::

    iso_date("Wed, 10 Jan 2024 08:15:00 +0000")   # '2024-01-10T08:15:00+00:00'
    split_list("Jane Doe and John Roe")           # ('Jane Doe', 'John Roe')
"""

from __future__ import annotations

import re
from typing import Any

from lxml.html import HtmlElement

from common.dates import DMY, read_when

__all__ = ["AUTHOR_SPLIT", "TAG_SPLIT", "clean_title", "iso_date", "published_date", "split_list"]

AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\||&)\s*")
TAG_SPLIT = re.compile(r"\s*[;,，、|]\s*")
_TITLE_SEP = re.compile(r"\s+(?:\||::|-|–|—|·|»|/)\s+|\s*_\s*")
_MAX_HEADING_CHARS = 300
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\b")


def split_list(value: Any, sep: re.Pattern[str] = AUTHOR_SPLIT) -> tuple[str, ...]:
    """A list or a delimited string as a tuple of distinct, stripped items."""
    if not value:
        return ()
    if isinstance(value, list | tuple):
        items = [part for v in value for part in sep.split(str(v))]
    else:
        items = sep.split(str(value))
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def iso_date(value: str | None) -> str | None:
    """The value as an ISO 8601 date or date-time if it is one (or an RFC 2822 or d.m.yyyy
    date); else None."""
    if not value:
        return None
    v = value.strip()
    if _ISO_DATE.match(v) and not _ISO_DATETIME.match(v):
        return v[:10]  # a day, whatever follows it
    when = read_when(v)
    if when is None:
        return None
    return when.date().isoformat() if DMY.fullmatch(v) else when.isoformat()


def published_date(candidates: list[str | None], found: str | None) -> str | None:
    """The publication date: the ``found`` day (htmldate's), told as a markup date-time from
    ``candidates`` when one falls on that day; the markup's alone when nothing was found."""
    stamps = [iso for iso in (iso_date(c) for c in candidates) if iso]
    day = iso_date(found)
    if day is None:
        return stamps[0] if stamps else None
    return next((s for s in stamps if s[:10] == day[:10]), day)


def clean_title(title: str | None, tree: HtmlElement) -> str | None:
    """Cut a site name off a ``<title>``-style headline when one part is the page's heading."""
    if not title:
        return None
    parts = [p.strip() for p in _TITLE_SEP.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    headings = {
        " ".join(el.text_content().split()).casefold()
        for el in tree.xpath("//h1 | //h2 | //b | //strong")
        if len(el.text_content()) < _MAX_HEADING_CHARS
    }
    for part in parts:
        if part.casefold() in headings:
            return part
    return title
