"""Export formats. Archived text is untrusted: it is written as data, never interpreted."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

__all__ = ["EXPORT_FIELDS", "write_csv", "write_jsonl"]

#: the fields of an exported article, in order; ``id`` is the archive's (``newsvault show ID``)
EXPORT_FIELDS = (
    "id",
    "url",
    "source",
    "title",
    "authors",
    "published_at",
    "modified_at",
    "language",
    "site_name",
    "description",
    "tags",
    "image_url",
    "text",
    "markdown",
    "paywalled",
    "first_fetched_at",
    "fetched_at",
    "revisions",
)


def write_jsonl(articles: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one JSON object per line; returns the count. Streams: nothing is held in memory.
    An article carrying ``history`` (every revision) is written with it."""
    n = 0
    for art in articles:
        row = {k: art.get(k) for k in EXPORT_FIELDS}
        if "history" in art:
            row["history"] = art["history"]
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")
        n += 1
    return n


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a string starting like a formula gets a
    leading ``'`` (OWASP's advice; the cell is quoted by the writer as needed)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(articles: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write a header row and one row per article (RFC 4180 quoting); returns the count.

    List fields (authors, tags) are joined with ``"; "``; multi-line text stays in one quoted
    cell. A text cell that starts with ``= + - @``, a tab or a carriage return gets a leading
    ``'``, so that no spreadsheet runs archived text as a formula (CSV injection); JSON lines
    keep the text as it is. Streams like :func:`write_jsonl`. ``out`` should be opened with
    ``newline=""``.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    n = 0
    for art in articles:
        row = []
        for k in EXPORT_FIELDS:
            value = art.get(k)
            if isinstance(value, list | tuple):
                value = "; ".join(str(v) for v in value)
            row.append("" if value is None else _cell(value))
        writer.writerow(row)
        n += 1
    return n
