"""Dates as found in feeds, sitemaps, HTTP headers and HTML: ISO 8601, RFC 822 or d.m.yyyy,
read leniently, in one place.

Example::

    is_later("2026-11-21T09:30:00+00:00", "Fri, 20 Nov 2026 07:45:00 +0000")  # True
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["DMY", "is_later", "parse_when", "read_when", "utcnow"]

#: a day.month.year date (German, Dutch, Scandinavian... pages)
DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def read_when(value: str | None) -> datetime | None:
    """A datetime from an ISO 8601 date or date-time, an RFC 822 date or a d.m.yyyy date, its
    zone kept (naive when the text has none); None when ``value`` is empty or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    m = DMY.fullmatch(text)
    try:
        if m:
            return datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def parse_when(value: str | None) -> datetime | None:
    """An aware UTC datetime from what :func:`read_when` reads; None when ``value`` is empty or
    unreadable (a date without a zone is taken as UTC)."""
    when = read_when(value)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def is_later(new: str | None, old: str | None) -> bool:
    """True when ``new`` is a later date than ``old`` (or differs, when either is unreadable);
    False when ``new`` is empty."""
    if not new:
        return False
    if not old:
        return True
    a, b = parse_when(new), parse_when(old)
    if a is None or b is None:
        return new.strip() != old.strip()
    return a > b


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
