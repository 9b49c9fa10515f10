"""A readable word-level diff of two article texts, for ``newsvault diff``.

Deleted words are shown as ``[-words-]``, inserted ones as ``{+words+}`` (git's
``--word-diff=plain`` notation); ``colour`` adds red and green for a terminal. Only the paragraphs
that changed are shown, each with its number in the newer text.

Example::

    for para in word_diff("Rain at 4pm.", "Rain at 6pm."):
        print(para)   # ¶1  Rain at [-4pm.-]{+6pm.+}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import click

__all__ = ["word_diff"]

_TOKENS = re.compile(r"\n\s*\n|\S+")
_BREAK = "\n\n"


def _tokens(text: str) -> list[str]:
    return [_BREAK if t.strip() == "" else t for t in _TOKENS.findall(text)]


def _show(words: list[str]) -> str:
    return " ".join("¶" if w == _BREAK else w for w in words)


def word_diff(old: str, new: str, *, colour: bool = False) -> list[str]:
    """The changed paragraphs of ``new`` against ``old``, with the changes marked."""
    a, b = _tokens(old), _tokens(new)
    paint: Callable[[str, str], str] = (
        (lambda s, c: click.style(s, fg=c)) if colour else (lambda s, c: s)
    )
    paragraphs: list[tuple[list[str], bool]] = [([], False)]

    def put(piece: str, changed: bool) -> None:
        words, was = paragraphs[-1]
        words.append(piece)
        paragraphs[-1] = (words, was or changed)

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for w in a[i1:i2]:
                if w == _BREAK:
                    paragraphs.append(([], False))
                else:
                    put(w, False)
            continue
        gone = paint(f"[-{_show(a[i1:i2])}-]", "red") if i2 > i1 else ""
        added = paint(f"{{+{_show(b[j1:j2])}+}}", "green") if j2 > j1 else ""
        put(gone + added, True)
    return [
        f"¶{n}  " + " ".join(words)
        for n, (words, changed) in enumerate(paragraphs, start=1)
        if changed
    ]
