"""The word-level diff of two article texts: one tokeniser, one alignment, two renderings.

A text is split into words (with inner ``. , ' -`` as in 3.2, 48,000, don't, co-op), single
punctuation marks and runs of white space (:func:`tokens`). Two texts are aligned on those
tokens, white space counting only as "a space" or "a paragraph break", so spacing differently is
not a change; changes separated by nothing but a space are one change (:func:`opcodes`). Then:

- :func:`word_diff` (``newsvault diff``) gives the changed paragraphs as text, deleted words
  ``[-like this-]`` and inserted ones ``{+like this+}`` (git's ``--word-diff=plain``), each
  paragraph with its number in the newer text; ``colour`` adds red and green for a terminal;
- :func:`inline_diff` (the web view) gives segments ``(op, text)`` that a template renders
  (escaped) as it likes, and that rebuild both texts exactly.

Example::

    for para in word_diff("Rain at 4pm.", "Rain at 6pm."):
        print(para)   # ¶1  Rain at [-4pm-]{+6pm+}.
    inline_diff("the old text", "the new text")
    # [("same", "the "), ("del", "old"), ("ins", "new"), ("same", " text")]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

import click

__all__ = ["inline_diff", "opcodes", "tokens", "word_diff"]

# words (with inner . , ' - as in 3.2, 48,000, don't, co-op), runs of space, single punctuation
_TOKENS = re.compile(r"\w+(?:[.,'’-]\w+)*|\s+|[^\w\s]")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BREAK, _SPACE = "\n\n", " "

Opcode = tuple[str, int, int, int, int]


def tokens(text: str) -> list[str]:
    """``text`` as words, punctuation marks and runs of white space; they join back to it."""
    return _TOKENS.findall(text)


def _key(token: str) -> str:
    """What a token is compared as: white space is a paragraph break or a space."""
    if not token.isspace():
        return token
    return _BREAK if _BLANK_LINE.search(token) else _SPACE


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """``difflib`` opcodes turning tokens ``a`` into tokens ``b``; a space alone between two
    changes is part of one change, so "[-a b-]{+c d+}" rather than "[-a-]{+c+} [-b-]{+d+}"."""
    matcher = difflib.SequenceMatcher(
        None, [_key(t) for t in a], [_key(t) for t in b], autojunk=False
    )
    raw = matcher.get_opcodes()
    out: list[Opcode] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(raw):
        after_change = bool(out) and out[-1][0] != "equal"
        if tag == "equal" and i2 - i1 == 1 and _key(a[i1]) == _SPACE:
            if after_change and n < len(raw) - 1:  # opcodes alternate: a change follows
                tag = "replace"
        if tag != "equal" and after_change:
            _, pi1, _, pj1, _ = out.pop()
            i1, j1 = pi1, pj1
            tag = "replace"
        out.append((tag, i1, i2, j1, j2))
    return out


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Segments ``(op, text)`` with op ``same``, ``del`` (only in old) or ``ins`` (only in new);
    the ``same`` and ``del`` texts rebuild ``old``, the ``same`` and ``ins`` texts ``new``."""
    a, b = tokens(old), tokens(new)
    out: list[tuple[str, str]] = []

    def put(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag != "equal":
            put("del", "".join(a[i1:i2]))
            put("ins", "".join(b[j1:j2]))
            continue
        for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
            if x == y:
                put("same", x)
            else:  # the same white space, spaced differently: kept, to rebuild both texts
                put("del", x)
                put("ins", y)
    return out


def _line(toks: Sequence[str]) -> str:
    """Tokens on one line: white space as one space, a paragraph break as " ¶ "."""
    return "".join({_BREAK: " ¶ ", _SPACE: " "}.get(_key(t), t) for t in toks)


def word_diff(old: str, new: str, *, colour: bool = False) -> list[str]:
    """The changed paragraphs of ``new`` against ``old``, with the changes marked."""
    a, b = tokens(old), tokens(new)
    paint: Callable[[str, str], str] = (
        (lambda s, c: click.style(s, fg=c)) if colour else (lambda s, c: s)
    )
    paragraphs: list[tuple[list[str], bool]] = [([], False)]

    def put(piece: str, changed: bool) -> None:
        words, was = paragraphs[-1]
        words.append(piece)
        paragraphs[-1] = (words, was or changed)

    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            for t in b[j1:j2]:
                if _key(t) == _BREAK:
                    paragraphs.append(([], False))
                else:
                    put(_line([t]), False)
            continue
        gone, added = _line(a[i1:i2]), _line(b[j1:j2])
        if not gone.strip() and not added.strip():  # a space more or less: not a change
            put(added, False)
            continue
        lead = " " if gone.startswith(" ") or added.startswith(" ") else ""
        tail = " " if gone.endswith(" ") or added.endswith(" ") else ""
        gone, added = gone.strip(), added.strip()
        marked = (paint(f"[-{gone}-]", "red") if gone else "") + (
            paint(f"{{+{added}+}}", "green") if added else ""
        )
        put(lead + marked + tail, True)
    return [
        f"¶{n}  " + "".join(words).strip()
        for n, (words, changed) in enumerate(paragraphs, start=1)
        if changed
    ]
