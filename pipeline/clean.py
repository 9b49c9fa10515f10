"""Boilerplate removal around extraction: prune known widgets before, filter lines after.

Before extraction, :func:`prune_tree` removes elements whose class or id names a widget (comment
forms and threads, rating/voting widgets, share bars, newsletter and cookie boxes, related-post
lists) plus a source's own XPath/CSS rules. After extraction, :func:`clean_lines` drops lines that
are template text (see :mod:`pipeline.boilerplate`), the repeated title, datelines and bylines,
teaser lists made only of links, and text that JSON-LD shows is not part of the article.

Example::

    prune_tree(tree, opts.drop_xpaths, opts.drop_css)
    lines = clean_lines(text.splitlines(), LineContext(title=title, links=link_texts(tree)))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

from pipeline.boilerplate import is_boilerplate_line, is_byline, is_dateline, is_keyword_list

__all__ = [
    "LineContext",
    "clean_lines",
    "clean_text",
    "is_link_line",
    "link_texts",
    "norm_line",
    "paragraphs",
    "prune_tree",
    "running_words",
    "shingles",
    "unwrap_layout_tables",
    "words",
]

# class/id words that name a widget, matched as whole words of the attribute
_WIDGET_WORDS = (
    "comments?", "comment-(respond|form|list|area|section|thread)", "respond", "disqus(_thread)?",
    "post-ratings?", "ratings?-widget", "star-rating", "rating", "votes?", "voting",
    "share(bar|-bar|-buttons?|-tools|-links)?", "sharing", "sharedaddy", "social-(share|links|bar)",
    "newsletter(-signup|-box|-form)?", "subscribe(-box|-form)?", "cookies?(-notice|-banner)?",
    "consent", "gdpr", "related(-posts|-articles|-stories|-content|-links)?", "jp-relatedposts",
    "recommended", "most-(popular|read|viewed)", "popular-posts", "trending", "outbrain",
    "taboola", "read-more", "more-stories", "author-bio", "breadcrumbs?", "post-tags", "tag-list",
)
_WIDGET = re.compile(r"(?:^|\s)(?:" + "|".join(_WIDGET_WORDS) + r")(?:$|\s)", re.IGNORECASE)
_BODY_XPATH = ".//*[@itemprop='articleBody']"
# elements that can be widgets: these tags with a class or an id
_CANDIDATE_TAGS = ("div", "section", "aside", "form", "ul", "ol", "nav", "footer", "span")
_MAX_PRUNE_SHARE = 0.3  # never prune an element holding this share of the page's prose
_PROSE_WORDS = 20
_KEEP_SHORT_WORDS = 6
_KICKER_WORDS = 3
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u00c0-\u00de@(“\"])")
# widget text glued to the end of a real sentence ("... a quote worth sharing.Click To Tweet")
_INLINE_JUNK = re.compile(r"\s*(click to tweet|tweet this)\s*$", re.IGNORECASE)
_INLINE_JUNK_HINT = re.compile("tweet", re.IGNORECASE)  # in every match; 6x cheaper to look for
_ITEM = re.compile(r"\s*- ")
_LAYOUT_PARA_WORDS = 15
_TITLE_OVERLAP = 0.7
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def words(text: str) -> int:
    """Number of words in a text: runs of word characters, each CJK character counting as one
    (Chinese and Japanese are written without spaces)."""
    return len(_WORD.findall(_CJK.sub(" x ", text)))


def norm_line(text: str) -> str:
    """A line reduced to its lower-cased words, for comparing lines across pages."""
    return " ".join(_WORD.findall(text.casefold()))


@lru_cache(maxsize=8192)  # a site's templates repeat the same few hundred class names
def _is_widget(attr_words: str) -> bool:
    return _WIDGET.search(attr_words) is not None


def _attr_words(el: HtmlElement) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".replace("_", "-")


def prune_tree(tree: HtmlElement, xpaths: Iterable[str] = (), css: Iterable[str] = ()) -> int:
    """Remove widget elements and a source's own selectors in place; return how many."""
    from lxml.cssselect import CSSSelector

    doomed: list[etree._Element] = [
        el
        for el in tree.iter(_CANDIDATE_TAGS)
        if (el.get("class") is not None or el.get("id") is not None)
        and _is_widget(_attr_words(el))
    ]
    if doomed:
        prose = _prose_chars(tree)
        doomed = [
            el
            for el in doomed
            if el.get("itemprop") != "articleBody"
            and el.find(_BODY_XPATH) is None
            # a wrapper named like a widget ("read-more" around a story) holds the story's
            # paragraphs: leave it to the extractor
            and _prose_chars(el) <= _MAX_PRUNE_SHARE * prose
        ]
    # the source's own rules are trusted as given
    for xp in xpaths:
        doomed.extend(e for e in tree.xpath(xp) if isinstance(e, etree._Element))
    for sel in css:
        doomed.extend(CSSSelector(sel)(tree))
    removed = 0
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue  # already gone with an ancestor
        el.drop_tree() if isinstance(el, HtmlElement) else parent.remove(el)
        removed += 1
    return removed


def unwrap_layout_tables(tree: HtmlElement) -> int:
    """Turn tables used for page layout into plain blocks; return how many.

    Old templates put the whole page in nested tables; extractors then read the article as one
    table cell. A table is layout when it holds another table, a heading, or several paragraphs.
    """
    count = 0
    for table in list(tree.iter("table")):
        paras = sum(1 for p in table.iter("p") if words(p.text_content()) >= _LAYOUT_PARA_WORDS)
        if table.find(".//table") is None and table.find(".//h1") is None and paras < 2:
            continue
        own = [
            el
            for el in table.iter("thead", "tbody", "tfoot", "tr", "td", "th")
            if _owning_table(el) is table
        ]
        for el in (table, *own):
            el.tag = "div"
        count += 1
    return count


def _owning_table(el: HtmlElement) -> HtmlElement | None:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _prose_chars(el: HtmlElement) -> int:
    """Characters in the element's paragraphs of running text."""
    return sum(
        len(t) for t in (p.text_content() for p in el.iter("p")) if words(t) >= _PROSE_WORDS
    )


# blocks that hold a page's chrome, never its running text
_CHROME_TAGS = frozenset((
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "select", "button", "svg", "iframe", "head",
))
_INLINE_TAGS = frozenset((
    "span", "b", "i", "em", "strong", "u", "small", "sup", "sub", "abbr", "cite", "q", "mark",
    "time", "font", "code", "br",
))
_RUN_WORDS = 12  # a block of at least this many words outside links is running text


def running_words(tree: HtmlElement) -> int:
    """Words of the page's running text: blocks of a dozen words or more outside links, menus,
    headers, footers, forms and scripts, each block counted once (a cheap measure of how much
    article a page can hold, to judge whether an extraction got all of it)."""
    total = 0
    stack: list[etree._Element] = [tree]
    while stack:
        el = stack.pop()
        parts = [el.text or ""]
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _CHROME_TAGS:
                parts.append(child.tail or "")
                continue
            if tag in _INLINE_TAGS:
                parts.append(child.text_content())
            else:
                stack.append(child)
                parts.append(" ")
            parts.append(child.tail or "")
        n = words("".join(parts))
        if n >= _RUN_WORDS:
            total += n
    return total


def link_texts(tree: HtmlElement) -> frozenset[str]:
    """Normalised texts of the page's links (four characters or more). Links to a place on the
    same page (``href="#..."``, a table of contents) are left out: their texts are the article's
    own headings, not links away from it."""
    out = set()
    for a in tree.iter("a"):
        if (a.get("href") or "").lstrip().startswith("#"):
            continue
        t = norm_line(a.text_content())
        if len(t) >= 4:
            out.add(t)
    return frozenset(out)


def _link_share(norm_line: str, links: frozenset[str]) -> float:
    if not norm_line:
        return 0.0
    if norm_line in links:
        return 1.0
    covered = sum(len(t) for t in links if len(t) < len(norm_line) and t in norm_line)
    return min(1.0, covered / len(norm_line))


@dataclass(frozen=True, slots=True)
class LineContext:
    """What the line filter knows about the page."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    links: frozenset[str] = frozenset()
    drop_lines: tuple[str, ...] = ()
    structured_body: str | None = None
    link_share: float = 0.9  # a line this much covered by link texts is a link
    max_link_words: int = 20
    edge_lines: int = 3


def is_link_line(line: str, links: frozenset[str], max_words: int = 20, share: float = 0.9) -> bool:
    """True for a short line made (almost) only of the text of the page's links."""
    n = norm_line(line)
    return 0 < len(n.split()) <= max_words and _link_share(n, links) >= share


def _drop_link_runs(lines: list[str], ctx: LineContext) -> list[str]:
    """Drop runs of link-only lines at the end, and runs of two or more anywhere else."""
    flags = [is_link_line(ln, ctx.links, ctx.max_link_words, ctx.link_share) for ln in lines]
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j < len(lines) and flags[j]:
            j += 1
        if j - i >= 2 or j == len(lines):
            for k in range(i, j):
                keep[k] = False
        i = j
    return [line for line, k in zip(lines, keep, strict=True) if k]


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The text's overlapping runs of ``n`` lower-cased words (one shorter run for a short
    text), to tell how much of one text another holds."""
    toks = _WORD.findall(text.casefold())
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def _agree_with_structured(lines: list[str], body: str) -> list[str]:
    """Where JSON-LD/microdata give the whole article, drop lines it does not contain."""
    ref = shingles(body)
    per_line = [shingles(line) for line in lines]
    total = sum(len(s) for s in per_line)
    inside = sum(len(s & ref) for s in per_line)
    if not total or not ref or inside < 0.75 * total or len(ref) < 0.8 * total:
        return lines  # the structured body is a summary or a different text: no evidence
    # short lines are often subheadings, which JSON-LD bodies tend to leave out: keep them
    return [
        line
        for line, sh in zip(lines, per_line, strict=True)
        if words(line) <= _KEEP_SHORT_WORDS or len(sh & ref) >= 0.2 * len(sh)
    ]


def _is_title(line: str, title: str) -> bool:
    """The page's headline again, perhaps worded a little differently (no sentence ending)."""
    a, b = norm_line(line), norm_line(title)
    if a == b:
        return True
    if line.rstrip().endswith((".", "!", "?", "\u3002", "\"", "\u201d")) or words(line) > 25:
        return False
    ta, tb = set(a.split()), set(b.split())
    common = len(ta & tb)
    return len(ta) >= 3 and common >= _TITLE_OVERLAP * max(len(ta), len(tb))


def _trim_tail_sentences(lines: list[str]) -> list[str]:
    """Cut "Follow us on ..." / "Email the author at ..." sentences off the end of the last
    paragraph, where sign-offs get glued to the article's last words."""
    while lines:
        sentences = _SENTENCE_SPLIT.split(lines[-1])
        kept = list(sentences)
        while kept and is_boilerplate_line(kept[-1]):
            kept.pop()
        if len(kept) == len(sentences):
            break
        if kept:
            lines[-1] = " ".join(kept)
            break
        lines.pop()
    return lines


def clean_lines(lines: Iterable[str], ctx: LineContext) -> list[str]:
    """Filter extracted lines; return the article's paragraphs, whitespace-normalised."""
    extra = [re.compile(p) for p in ctx.drop_lines]
    out: list[str] = []
    for raw in lines:
        line = " ".join(raw.split())
        if _INLINE_JUNK_HINT.search(line):
            line = _INLINE_JUNK.sub("", line).strip()
        if not line or not _WORD.search(line):
            continue
        if any(p.search(line) for p in extra):
            continue
        if is_boilerplate_line(line):
            continue
        out.append(line)
    if ctx.title:
        title = ctx.title
        out = [ln for i, ln in enumerate(out) if i >= ctx.edge_lines or not _is_title(ln, title)]
    # a kicker above the story ("Politics") is the name of a section the page links to
    while out and words(out[0]) <= _KICKER_WORDS and norm_line(out[0]) in ctx.links:
        out.pop(0)
    # datelines, bylines and tag lines belong to the story's head or foot; a date line or a
    # comma list inside the text (a table row, a timeline entry, a list) is the article's own
    n = len(out)
    out = [
        ln
        for i, ln in enumerate(out)
        if not (
            (i < ctx.edge_lines or i >= n - ctx.edge_lines)
            and (is_dateline(ln) or is_byline(ln, ctx.authors) or is_keyword_list(ln))
        )
    ]
    if ctx.links:
        out = _drop_link_runs(out, ctx)
    if ctx.structured_body:
        out = _agree_with_structured(out, ctx.structured_body)
    return _trim_tail_sentences(out)


def paragraphs(lines: Iterable[str]) -> list[str]:
    """Group clean lines into paragraphs: consecutive list items ("- item", as trafilatura
    writes them) become one paragraph with an item per line and no markers."""
    out: list[str] = []
    in_list = False
    for line in lines:
        m = _ITEM.match(line)
        if m and in_list:
            out[-1] += "\n" + line[m.end() :]
        elif m:
            out.append(line[m.end() :])
        else:
            out.append(line)
        in_list = bool(m)
    return out


def clean_text(text: str, *, title: str | None = None, drop_lines: Sequence[str] = ()) -> str:
    """Normalise extracted text: boilerplate lines removed, the title not repeated, paragraphs
    separated by one blank line."""
    ctx = LineContext(title=title, drop_lines=tuple(drop_lines))
    return "\n\n".join(paragraphs(clean_lines(text.splitlines(), ctx)))
