"""The word diff: the web's segments keep both texts whole (same+del rebuilds the old, same+ins
the new), and the CLI marks the same words as the web."""

from __future__ import annotations

import re

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
