"""Text that is safe to store and to print: no control characters, no bidi overrides.

A title or author name from a hostile page could carry terminal escape sequences (``\\x1b[2J``)
or a right-to-left override (U+202E) that makes a listing lie about what it shows.
:func:`printable` removes both kinds (keeping tab and line feed); :func:`one_line` also folds
line breaks and runs of white space into one space, for titles, authors and names.

Example::

    one_line("Evil\\u202e txt.exe\\n")   # "Evil txt.exe"
"""

from __future__ import annotations

import re

__all__ = ["one_line", "printable"]

# C0 controls but tab and LF, DEL, C1 controls; bidi embeddings, overrides and isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


def printable(text: str) -> str:
    """``text`` without control characters (tab and line feed kept) and without
    bidi embedding, override and isolate characters."""
    return _UNSAFE.sub("", text)


def one_line(text: str) -> str:
    """``text`` as one printable line: :func:`printable`, white space runs as one space."""
    return _SPACES.sub(" ", printable(text)).strip()
