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
from typing import Any

import click

__all__ = ["MAX_CELLS", "inline_diff", "opcodes", "tokens", "word_diff"]

# words (with inner . , ' - as in 3.2, 48,000, don't, co-op), runs of space, single punctuation
_TOKENS = re.compile(r"\w+(?:[.,'’-]\w+)*|\s+|[^\w\s]")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BREAK, _SPACE = "\n\n", " "

Opcode = tuple[str, int, int, int, int]

#: the work one diff may do, as the sum over the stretches it aligns of the product of their
#: token counts (difflib's time grows with it; about 0.3 s here at this size); a changed stretch
#: that no longer fits is shown as one replacement, the old and the new text side by side
MAX_CELLS = 1_500_000


def tokens(text: str) -> list[str]:
    """``text`` as words, punctuation marks and runs of white space; they join back to it."""
    return _TOKENS.findall(text)


def _key(token: str) -> str:
    """What a token is compared as: white space is a paragraph break or a space."""
    if not token.isspace():
        return token
    return _BREAK if _BLANK_LINE.search(token) else _SPACE


def _matched(
    ka: Sequence[Any], kb: Sequence[Any], i0: int, j0: int, budget: list[int]
) -> list[Opcode]:
    """``difflib`` opcodes of ``ka`` against ``kb``, offset by ``i0``/``j0``. difflib's time
    grows with the product of the lengths: that product is taken from ``budget`` (what is left
    of :data:`MAX_CELLS` for the whole diff), and past it the two are one replacement."""
    cells = len(ka) * len(kb)
    if not ka or not kb or cells > budget[0]:
        return [("replace", i0, i0 + len(ka), j0, j0 + len(kb))] if ka or kb else []
    budget[0] -= cells
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    return [(t, i1 + i0, i2 + i0, j1 + j0, j2 + j0) for t, i1, i2, j1, j2 in matcher.get_opcodes()]


def _words(
    ka: Sequence[str], kb: Sequence[str], span: tuple[int, int, int, int], budget: list[int]
) -> list[Opcode]:
    """Opcodes of the tokens ``ka[i1:i2]`` against ``kb[j1:j2]``: a common start and end are
    equal, the middle is aligned word by word (:func:`_matched`)."""
    i1, i2, j1, j2 = span
    out: list[Opcode] = []
    head = 0
    while i1 + head < i2 and j1 + head < j2 and ka[i1 + head] == kb[j1 + head]:
        head += 1
    if head:
        out.append(("equal", i1, i1 + head, j1, j1 + head))
    i1, j1 = i1 + head, j1 + head
    tail = 0
    while i2 - tail > i1 and j2 - tail > j1 and ka[i2 - tail - 1] == kb[j2 - tail - 1]:
        tail += 1
    out += _matched(ka[i1 : i2 - tail], kb[j1 : j2 - tail], i1, j1, budget)
    if tail:
        out.append(("equal", i2 - tail, i2, j2 - tail, j2))
    return out


def _paragraphs(keys: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) token ranges of the paragraphs, each with the break that ends it."""
    spans, start = [], 0
    for n, k in enumerate(keys):
        if k == _BREAK:
            spans.append((start, n + 1))
            start = n + 1
    if start < len(keys):
        spans.append((start, len(keys)))
    return spans


def _align(ka: Sequence[str], kb: Sequence[str]) -> list[Opcode]:
    """Opcodes turning keys ``ka`` into ``kb``, in time bounded whatever the texts: paragraphs
    are aligned first, then the words of the changed paragraphs (:func:`_words`); a changed
    stretch that does not fit what is left of :data:`MAX_CELLS` is one replacement (the old
    and the new side by side). Adjacent opcodes of one kind are merged, so they alternate."""
    pa, pb = _paragraphs(ka), _paragraphs(kb)
    ua = [tuple(ka[s:e]) for s, e in pa]
    ub = [tuple(kb[s:e]) for s, e in pb]
    ops: list[Opcode] = []
    budget = [MAX_CELLS]
    for tag, p1, p2, q1, q2 in _matched(ua, ub, 0, 0, budget):
        i1 = pa[p1][0] if p1 < len(pa) else len(ka)
        i2 = pa[p2 - 1][1] if p2 > p1 else i1
        j1 = pb[q1][0] if q1 < len(pb) else len(kb)
        j2 = pb[q2 - 1][1] if q2 > q1 else j1
        span = (i1, i2, j1, j2)
        ops += [(tag, *span)] if tag == "equal" else _words(ka, kb, span, budget)
    merged: list[Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if i1 == i2 and j1 == j2:
            continue
        if merged and (merged[-1][0] == "equal") == (tag == "equal"):
            ptag, pi1, _, pj1, _ = merged.pop()
            tag, i1, j1 = ptag if tag == "equal" else "replace", pi1, pj1
        if tag != "equal":
            tag = "replace" if i1 < i2 and j1 < j2 else ("delete" if i1 < i2 else "insert")
        merged.append((tag, i1, i2, j1, j2))
    return merged


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """Opcodes (as ``difflib``'s) turning tokens ``a`` into tokens ``b``; a space alone between
    two changes is part of one change, so "[-a b-]{+c d+}" rather than "[-a-]{+c+} [-b-]{+d+}".
    Time is bounded (:func:`_align`): a long text rewritten in full costs no more than
    :data:`MAX_CELLS` steps per changed stretch."""
    raw = _align([_key(t) for t in a], [_key(t) for t in b])
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
