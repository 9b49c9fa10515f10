"""The article's Markdown (pipeline.markdown), paywall detection (pipeline.paywall), and the web
view's rendering of Markdown (newsvault.web.markdown)."""

from __future__ import annotations

import re

import pytest

from newsvault.web.markdown import markdown_html
from pipeline.extract import ExtractOptions, extract_article
from pipeline.markdown import escape
from tests.test_extract import NAMES, PAGES, _url


@pytest.mark.parametrize("name", NAMES)
def test_markdown_of_the_saved_pages_is_as_expected(name: str) -> None:
    art = extract_article((PAGES / f"{name}.html").read_bytes(), _url(name))
    expected = (PAGES / f"{name}.md").read_text(encoding="utf-8")
    assert art.markdown + "\n" == expected


@pytest.mark.parametrize("name", NAMES)
def test_markdown_says_what_the_text_says(name: str) -> None:
    """Same pruning, same filters: the Markdown's words are the text's words."""
    art = extract_article((PAGES / f"{name}.html").read_bytes(), _url(name))

    def words(s: str) -> list[str]:
        return re.findall(r"\w+", s.casefold())

    assert words(art.markdown) == words(art.text)


PAGE = """<html><head><title>Tide tables go digital</title>
<meta property="og:type" content="article"></head><body>
<nav><a href="/">Home</a> <a href="/news/">News</a></nav>
<article><h1>Tide tables go digital</h1>
<p>The harbour office will stop printing its yearly tide tables in January and publish them
online instead, the harbour master told the council on Monday, citing printing costs.</p>
<h2>What sailors said</h2>
<p>Several skippers asked for a printed copy to stay available at the office, since phones
fail at sea, and the <a href="/news/council-minutes.html">council minutes</a> record a promise.</p>
<ul><li>printed copies at the office</li><li>a *free* app for 2 phones</li></ul>
<ol><li>January: online only</li><li>March: review of the change</li></ol>
<blockquote><p>Paper does not run out of battery, said one fisherman at the meeting.</p>
</blockquote>
<table><tr><th>Month</th><th>Copies</th></tr><tr><td>Printed</td><td>200</td></tr></table>
<p># not a heading, and &lt;script&gt;alert(1)&lt;/script&gt; is text the page quoted.</p>
<p>Share this article</p>
<p>PROMO: win a boat trip this weekend with the harbour newsletter and our partners</p>
</article></body></html>"""


def test_markdown_keeps_structure_links_and_escapes_the_page() -> None:
    opts = ExtractOptions(drop_lines=(r"^PROMO:",))
    art = extract_article(PAGE, "https://port.example/news/tides.html", opts)
    md = art.markdown
    assert "## What sailors said" in md
    assert "[council minutes](https://port.example/news/council-minutes.html)" in md
    assert "- printed copies at the office\n- a \\*free\\* app for 2 phones" in md
    assert "1. January: online only\n2. March: review of the change" in md
    assert "> Paper does not run out of battery" in md
    assert "| Month | Copies |\n|---|---|\n| Printed | 200 |" in md
    assert "\\# not a heading" in md and "\\<script\\>" in md
    # the text's filters apply: the share line and the source's drop_lines rule
    assert "Share this article" not in art.text and "Share this article" not in md
    assert "PROMO" not in art.text and "PROMO" not in md
    assert "Home" not in md  # navigation is pruned as for the text
    assert "Tide tables go digital" not in md  # the title is not repeated


def test_escape_makes_markup_literal() -> None:
    assert escape("1. not a list") == "1\\. not a list"
    assert escape("a_b [c](d) <e>") == "a\\_b \\[c\\](d) \\<e\\>"


def test_the_web_view_renders_no_html_of_the_archive() -> None:
    html = str(
        markdown_html(
            "# Title <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[bad](javascript:alert(1)) [good](https://example.com/a) ![i](https://e.com/i.png)"
        )
    )
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com/a" rel="nofollow noopener noreferrer">good</a>' in html


TEASER = (
    "<p>The regional court ruled on Friday that the ferry company must refund the fares of "
    "passengers whose crossings were cancelled during the strike last spring, a decision that "
    "covers almost four thousand tickets.</p><p>The company said it would study the ruling "
    "before deciding whether to appeal, and that refunds would be paid within a month.</p>"
)
LOCKED = "<p>LOCKED-PART The lawyers for the passengers said the judgment set a precedent.</p>"


def _page(head: str = "", body: str = "") -> str:
    return (
        f"<html><head><title>Ferry fares refunded</title>{head}</head><body><article>"
        f"<h1>Ferry fares refunded</h1>{TEASER}{body}</article></body></html>"
    )


@pytest.mark.parametrize(
    "html",
    [
        _page(
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            '"isAccessibleForFree": "False", "hasPart": {"@type": "WebPageElement", '
            '"isAccessibleForFree": false, "cssSelector": ".premium"}}</script>',
            f'<div class="premium">{LOCKED}</div>',
        ),
        _page(
            "",
            '<meta itemprop="isAccessibleForFree" content="false">'
            f'<section class="regwall">{LOCKED}</section>',
        ),
        _page(
            "",
            '<div id="paywall"><p>LOCKED-PART Subscribe now to read the rest of this story and '
            "everything else we publish, from one euro a month.</p></div>",
        ),
    ],
    ids=["json-ld", "microdata", "marker"],
)
def test_a_paywalled_page_keeps_its_teaser_only(html: str) -> None:
    art = extract_article(html, "https://courier.example/ferry-fares")
    assert art.paywalled
    assert "refund the fares" in art.text and "refunds would be paid" in art.text
    assert "LOCKED-PART" not in art.text and "LOCKED-PART" not in art.markdown


def test_a_story_marked_metered_is_paywalled_and_kept_whole() -> None:
    """A class naming the walled part says nothing of where the teaser ends: the page keeps
    what it served (a metered story is served whole)."""
    html = _page("", f'<section class="meteredContent css-1r7ky0e">{LOCKED}</section>')
    art = extract_article(html, "https://courier.example/ferry-fares")
    assert art.paywalled
    assert "LOCKED-PART" in art.text


def test_class_names_that_only_contain_a_marker_word_are_no_paywall() -> None:
    html = _page("", '<div class="ad-leader-middle-plus-content"></div><p class="nopaywall">x</p>')
    assert not extract_article(html, "https://courier.example/ferry-fares").paywalled


def test_a_free_page_is_not_paywalled() -> None:
    free = _page(
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"isAccessibleForFree": true}</script>',
        '<div class="newsletter-signup"><p>Get our newsletter</p></div>',
    )
    assert not extract_article(free, "https://courier.example/ferry-fares").paywalled


def test_escape_makes_line_start_markers_literal() -> None:
    assert escape("## not a heading") == "\\## not a heading"
    assert escape("- not an item") == "\\- not an item"
