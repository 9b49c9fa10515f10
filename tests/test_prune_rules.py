"""The one-pass boilerplate rules select exactly what evaluating each XPath rule selects."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html

from pipeline.clean import _PRUNE_XPATHS
from pipeline.demo import DEMO_SITE
from pipeline.prune_rules import RuleSet

PAGES = sorted(
    [*DEMO_SITE.rglob("*.html"), *(Path(__file__).parent / "data").rglob("*.html")]
)

TRICKY = """<html><body>
<div id="comments"><p>a</p><div class="comment-list x"><p>b</p></div></div>
<div class="comment-listing">kept: not the whole token</div>
<div class="x\tcomment-respond\ny">tab and newline separate class tokens</div>
<div class="no-newsletter-here">substring rule matches</div>
<form id="commentform"><input></form><form class="search"></form>
<aside data-kind="promo"><p>c</p></aside>
<p class="a or b">or inside a quoted literal</p>
<!-- a comment node --><div ID="respond">attribute names are case-folded by the parser</div>
</body></html>"""


def reference(tree: html.HtmlElement, rules: tuple[str, ...]) -> list[object]:
    return [el for xp in rules for el in tree.xpath(xp)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_builtin_rules_match_xpath_on_real_pages(page: Path) -> None:
    tree = html.document_fromstring(page.read_bytes())
    assert RuleSet(_PRUNE_XPATHS).matches(tree) == reference(tree, _PRUNE_XPATHS)


def test_rules_of_other_shapes_fall_back_to_xpath_with_the_same_result() -> None:
    rules = (
        *_PRUNE_XPATHS,
        '//aside[@data-kind="promo"]',
        '//*[contains(@class, "a or b")]',
        "//form[@id]",
        '//div[@class="comment-listing"]',
    )
    tree = html.document_fromstring(TRICKY)
    found = RuleSet(rules).matches(tree)
    assert found == reference(tree, rules)
    texts = [el.text_content().strip() for el in found]
    assert "kept: not the whole token" in texts  # only through the @class= rule
    assert "or inside a quoted literal" in texts
    assert any("tab and newline" in t for t in texts)


def test_an_empty_rule_set_matches_nothing() -> None:
    assert RuleSet(()).matches(html.document_fromstring(TRICKY)) == []
