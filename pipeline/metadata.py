"""Normalising article metadata: author and tag lists, ISO 8601 dates, headline clean-up.

Pure helpers for :mod:`pipeline.extract` (which gathers the raw values with trafilatura), and
:func:`find_date`: htmldate's date search with its last-resort parser limited to English and the
page's language (dateparser otherwise tries all 200 of its languages, and the first such try
costs each extraction worker 2.2 s of CPU).

Example::

    iso_date("Wed, 10 Jan 2024 08:15:00 +0000")   # '2024-01-10T08:15:00+00:00'
    split_list("Jane Doe and John Roe")           # ('Jane Doe', 'John Roe')
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from lxml.html import HtmlElement

from common.dates import DMY, read_when

__all__ = [
    "AUTHOR_SPLIT",
    "TAG_SPLIT",
    "clean_title",
    "find_date",
    "iso_date",
    "published_date",
    "split_list",
]

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


# htmldate's settings for dateparser (htmldate.extractors.get_external_parser), kept as they are
_DATEPARSER_SETTINGS = {
    "NORMALIZE": True,
    "PARSERS": ["custom-formats", "absolute-time"],
    "PREFER_DATES_FROM": "past",
    "PREFER_LOCALE_DATE_ORDER": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}
_LANG_CODE = re.compile(r"[a-z]{2,3}")
_date_language: list[str | None] = [None]  # the language htmldate's date cache was filled for
# rendered pages are extracted in threads: one page's parser and cache at a time (htmldate holds
# the GIL throughout, so this costs no parallelism)
_DATE_LOCK = threading.Lock()


@lru_cache(maxsize=64)
def _date_parser(language: str | None) -> Any:
    """dateparser for htmldate's last-resort date strings: English and the page's language.
    Without languages, dateparser tries a string against its 200 languages, and the first such
    try in a process compiles every language's patterns (2.2 s of CPU, in each extraction
    worker); two languages cost milliseconds."""
    from dateparser import DateDataParser
    from dateparser.data.languages_info import language_order

    languages = ["en"]
    if language and language != "en" and language in language_order:
        languages.append(language)
    return DateDataParser(languages=languages, settings=_DATEPARSER_SETTINGS)


def _language_code(language: str | None) -> str | None:
    """"pt-BR" -> "pt"; None for what is not a language tag."""
    if not language:
        return None
    m = _LANG_CODE.match(language.strip().lower())
    return m.group(0) if m else None


def find_date(tree: HtmlElement, url: str, language: str | None) -> str | None:
    """htmldate's publication date of the page (its extensive search, original date), with its
    last-resort parser (dateparser) reading English and the page's ``language`` only."""
    import htmldate.extractors as hx
    from htmldate import find_date as htmldate_find_date
    from trafilatura.settings import set_date_params

    code = _language_code(language)
    parser = _date_parser(code)
    with _DATE_LOCK:
        if code != _date_language[0]:  # its cache of parsed strings holds another language's
            hx.try_date_expr.cache_clear()
            _date_language[0] = code
        # htmldate looks its parser up by this name at each use
        setattr(hx, "get_external_parser", lambda: parser)  # noqa: B010 - typed as an lru_cache
        return htmldate_find_date(tree, **{**set_date_params(True), "url": url})
