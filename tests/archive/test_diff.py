"""The word diff: the web's segments keep both texts whole (same+del rebuilds the old, same+ins
the new), and the CLI marks the same words as the web."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsvault.textdiff import inline_diff, word_diff

_TEXT = st.text(alphabet=st.sampled_from("ab c.,\n£3'-"), max_size=60)


@given(_TEXT, _TEXT)
def test_diff_segments_rebuild_both_texts(old: str, new: str) -> None:
    segments = inline_diff(old, new)
    assert "".join(t for op, t in segments if op != "ins") == old
    assert "".join(t for op, t in segments if op != "del") == new
    assert all(t for _, t in segments)


def test_numbers_and_words_change_as_units() -> None:
    segments = inline_diff(
        "The £2.9m scheme starts in spring.", "The £3.2 million scheme starts in spring."
    )
    assert ("del", "2.9m") in segments and ("ins", "3.2 million") in segments


def _marked(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The deleted and inserted words, white space (and ¶, a paragraph break) folded."""
    out = []
    for op, text in segments:
        words = " ".join(text.replace("¶", " ").split())
        if op != "same" and words:
            out.append((op, words))
    return out


def _cli_marked(old: str, new: str) -> list[tuple[str, str]]:
    found = re.findall(r"\[-(.*?)-\]|\{\+(.*?)\+\}", "\n".join(word_diff(old, new)))
    return _marked([("del", gone) if gone else ("ins", added) for gone, added in found])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "The council meets today.\n\nThe rise is 4.9% this year.\n\nNo other news.",
            "The council meets today.\n\nThe rise is 5.2% this year, officials said.\n\nNo news.",
        ),
        ("The £2.9m scheme starts in spring.", "The £3.2 million scheme starts in spring."),
        ("Work starts in the spring, said Ms Quinn.", "Work starts in the second week of January."),
    ],
)
def test_the_cli_and_the_web_mark_the_same_words(old: str, new: str) -> None:
    assert _cli_marked(old, new) == _marked(inline_diff(old, new))


@given(_TEXT, _TEXT)
def test_the_cli_and_the_web_always_mark_the_same_words(old: str, new: str) -> None:
    assert _cli_marked(old, new) == _marked(inline_diff(old, new))


def test_the_diff_of_a_long_rewrite_does_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 20 (6): an 8,000-word article rewritten (half its paragraphs, or all of it) costs
    the alignment at most its budget (difflib's work grows with the product of the lengths it
    compares), and the segments still rebuild both texts. Time itself: bench/diff_page.py."""
    import difflib
    import random

    from newsvault import textdiff

    work: list[int] = []

    class Counting(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def __init__(self, junk: Any, a: Any, b: Any, autojunk: bool = True) -> None:
            work.append(len(a) * len(b))
            super().__init__(junk, a, b, autojunk)

    monkeypatch.setattr(textdiff.difflib, "SequenceMatcher", Counting)
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(3000)] + ["the", "a", "of"] * 300

    def para() -> str:
        return " ".join(rng.choices(vocab, k=200)) + "."

    old = [para() for _ in range(40)]
    for new in ([p if i % 2 else para() for i, p in enumerate(old)], [para() for _ in old]):
        work.clear()
        a, b = "\n\n".join(old), "\n\n".join(new)
        segments = inline_diff(a, b)
        assert sum(work) <= textdiff.MAX_CELLS + 40 * 40
        assert "".join(t for op, t in segments if op != "ins") == a
        assert "".join(t for op, t in segments if op != "del") == b
