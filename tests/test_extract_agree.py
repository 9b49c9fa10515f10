"""The agreement step with a second extractor (pipeline.agree, issue 19): a line only the second
extractor read is added on evidence only, on small pages written for the test."""

from __future__ import annotations

from typing import Any

from lxml.html import fromstring

from pipeline.agree import HEADING, ITEM, TEXT, add_from_second, merge_second, readability_lines
from pipeline.clean import LineContext

_A = "The ferry company said on Monday that the winter timetable would run until April."
_B = "Passengers had complained for months that the boat left before the first bus arrived."
_C = "The harbour master told the council that dredging would start in the autumn."
_D = "Shop owners on the front hope the later crossings will bring day visitors back."


def test_lines_between_two_agreed_lines_are_added_in_place() -> None:
    second = [(TEXT, _A), (HEADING, "Winter crossings"), (TEXT, _B),
              (ITEM, "- First boat at seven in the morning"), (TEXT, _C)]
    assert merge_second([_A, _B, _C], second) == [
        _A, "Winter crossings", _B, "- First boat at seven in the morning", _C,
    ]


def test_nothing_outside_the_agreed_span_is_added() -> None:
    """The second extractor's lines before the first and after the last shared line are its
    own choice of block (a teaser, a sidebar): no evidence for them."""
    second = [(TEXT, "Read the other story about the lighthouse keepers and their museum."),
              (TEXT, _A), (TEXT, _B),
              (TEXT, "Sign up to our weekly letter for all the news from the harbour.")]
    assert merge_second([_A, _B], second) == [_A, _B]


def test_a_second_text_that_shares_one_line_or_none_adds_nothing() -> None:
    second = [(TEXT, _A), (HEADING, "Something else entirely"), (TEXT, _D)]
    assert merge_second([_B, _C], second) == [_B, _C]
    assert merge_second([_A, _C], second) == [_A, _C]


def test_links_and_lone_labels_are_not_added() -> None:
    links = frozenset({"ferry fares rise again for island residents this spring"})
    second = [(TEXT, _A), (TEXT, "Ferry fares rise again for island residents this spring"),
              (TEXT, "Book now"), (HEADING, "Fares"), (TEXT, _B)]
    assert merge_second([_A, _B], second, links) == [_A, "Fares", _B]


def test_a_line_we_hold_already_is_not_added_twice() -> None:
    """Matching is by words: our line written a little differently (spacing, case, split at
    another point) is the same line."""
    second = [(TEXT, _A.upper()), (TEXT, _B + " " + _C), (TEXT, _D)]
    assert merge_second([_A, _B, _C, _D], second) == [_A, _B, _C, _D]


def test_the_second_extractors_lines_pass_our_filters() -> None:
    """A line the second extractor adds goes through clean_lines like ours: a boilerplate line
    between two paragraphs is not added."""
    second = [(TEXT, _A), (TEXT, "Subscribe to our newsletter"),
              (HEADING, "Winter crossings"), (TEXT, _B)]
    assert add_from_second([_A, _B], second, LineContext()) == [_A, "Winter crossings", _B]


def _page(body: str) -> str:
    return (
        "<html><head><title>Ferry timetable changes</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
        f"<div id='story'>{body}</div>"
        "<footer><a href='/about/'>About the Gazette</a></footer></body></html>"
    )


def test_readability_lines_keep_headings_and_items_with_their_kind() -> None:
    tree = fromstring(_page(
        f"<p>{_A}</p><p>{_B}</p><h2>Winter crossings</h2><p>{_C}</p>"
        f"<ul><li>First boat at seven</li><li>Last boat at nine</li></ul><p>{_D}</p>"
    ))
    lines = readability_lines(tree)
    assert (HEADING, "Winter crossings") in lines
    assert (ITEM, "- First boat at seven") in lines
    assert (TEXT, _D) in lines


def test_readability_lines_leave_out_captions_code_and_tables() -> None:
    """Captions (figure or a block named so), code and tables are read by our own extraction its
    own way or left out: the second extractor's copy of them is no evidence."""
    tree = fromstring(_page(
        f"<p>{_A}</p><figure><img src='a.jpg'><figcaption>The new boat at the quay, "
        "photographed on Monday morning</figcaption></figure>"
        f"<p>{_B}</p><div class='image-caption'>Passengers boarding the early ferry in the "
        f"rain (Photo: Gazette)</div><p>{_C}</p><pre>timetable = load('winter')</pre>"
        f"<table><tr><td>Depart</td><td>07:00</td></tr></table><p>{_D}</p>"
    ))
    text = " ".join(t for _, t in readability_lines(tree))
    assert _A in text and _D in text
    for gone in ("photographed", "Passengers boarding", "timetable =", "07:00"):
        assert gone not in text


def test_a_page_the_second_extractor_cannot_read_gives_no_lines() -> None:
    assert readability_lines(fromstring("<html></html>")) == []


def test_a_block_named_after_its_picture_is_still_read() -> None:
    """Only caption and credit names mark a caption: a text block beside a picture (class
    "media-text", "image-block") is part of the story."""
    tree = fromstring(_page(
        f"<p>{_A}</p><div class='media-text image-block'><p>{_B}</p></div><p>{_C}</p><p>{_D}</p>"
    ))
    assert (TEXT, _B) in readability_lines(tree)


_P1 = "The harbour board met on Tuesday evening to agree the dredging contract for the winter."
_P2 = "Work on the outer channel starts in January and should end before the ferries return."
_P3 = "Fishermen asked for the quay to stay open at night while the dredger is working there."
_DIV = (
    "The contract is worth four million pounds and runs for two years, with an option to extend"
    " it by a third year if the silt returns as fast as it did after the storms of last winter."
)


def _page(middle: str) -> str:
    return (
        "<html><head><title>Dredging contract agreed</title></head><body><article>"
        f"<h1>Dredging contract agreed</h1><p>{_P1}</p>{middle}<p>{_P2}</p><p>{_P3}</p>"
        "</article></body></html>"
    )


def test_the_second_extractor_runs_only_where_our_text_looks_short(monkeypatch: Any) -> None:
    """It costs 20-40 ms a page: it runs only where our text holds fewer words than the page's
    running text (:func:`pipeline.clean.running_words`), and what it adds goes in its place."""
    import pipeline.extract as extract

    calls: list[int] = []

    def second(tree: Any) -> list[tuple[str, str]]:
        calls.append(1)
        return [(TEXT, _P1), (TEXT, _DIV), (TEXT, _P2), (TEXT, _P3)]

    monkeypatch.setattr(extract, "readability_lines", second)
    url = "https://harbour-gazette.example/2024/03/dredging/"
    page = _page("")
    confident = extract.extract_article(page, url)
    assert calls == [], "a page whose running text we hold is not read twice"
    assert _DIV not in confident.text

    running = extract.running_words
    monkeypatch.setattr(extract, "running_words", lambda tree: running(tree) + 100)
    doubtful = extract.extract_article(page, url)
    assert calls == [1]
    assert doubtful.text.split("\n\n")[:3] == [_P1, _DIV, _P2]
