"""Word-level inline diff of two texts, as segments a template renders (escaped) as it likes.

Example::

    for op, text in inline_diff("the old text", "the new text"):
        print(op, repr(text))   # same 'the ', del 'old', ins 'new', same ' text'
"""

from __future__ import annotations

import difflib
import re

__all__ = ["inline_diff"]

# words (with inner . , ' - as in 3.2, 48,000, don't, co-op), runs of space, single punctuation
_TOKENS = re.compile(r"\w+(?:[.,'’-]\w+)*|\s+|[^\w\s]")


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Segments ``(op, text)`` with op ``same``, ``del`` (only in old) or ``ins`` (only in new)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            out.append(("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            out.append(("ins", "".join(b[j1:j2])))
    return out
