"""Dates as found in feeds, sitemaps and HTML: ISO 8601 or RFC 822, read leniently.

Example::

    is_later("2026-11-21T09:30:00+00:00", "Fri, 20 Nov 2026 07:45:00 +0000")  # True
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["is_later", "parse_when", "utcnow"]


def parse_when(value: str | None) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 date or date-time or an RFC 822 date; None when
    ``value`` is empty or unreadable (a date without a zone is taken as UTC)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
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
