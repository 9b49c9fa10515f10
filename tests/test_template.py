"""Per-source template learning is a pure function over a list of texts."""

from __future__ import annotations

from pipeline.clean import norm_line
from pipeline.template import learn_template

BOX = "Sign up to our morning briefing and never miss a story."


def _pages(n: int) -> list[str]:
    return [f"Story {i} opens with its own sentence number {i}.\n\n{BOX}\n\nEnds {i}." for i in
            range(n)]


def test_repeated_line_is_template() -> None:
    assert learn_template(_pages(5)) == frozenset({norm_line(BOX)})


def test_line_on_one_page_is_never_template() -> None:
    assert learn_template(["only here\n\n" + BOX], min_pages=1, min_share=0.0) == frozenset()


def test_thresholds() -> None:
    pages = _pages(2) + [f"Other page {i}." for i in range(8)]
    assert learn_template(pages) == frozenset()  # 2 of 10 pages: under 3 pages and 30 %
    assert learn_template(pages, min_pages=2, min_share=0.2) == frozenset({norm_line(BOX)})


def test_repeats_within_one_page_count_once() -> None:
    assert learn_template([f"{BOX}\n{BOX}\n{BOX}", "x"]) == frozenset()


def test_long_paragraphs_are_never_template() -> None:
    long = " ".join(["word"] * 80)
    assert learn_template([long] * 5) == frozenset()
