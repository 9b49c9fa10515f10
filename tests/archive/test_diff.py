"""The inline diff keeps both texts whole: same+del rebuilds the old, same+ins the new."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsvault.web.diff import inline_diff

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
