"""A second, structurally different extractor, and where its text may add to ours.

trafilatura reads a page paragraph by paragraph and, in precision mode, leaves out what it is
unsure of: subheadings, list items, text in table cells or bare ``<div>``s. readability-lxml
scores whole blocks of the page and keeps the best one with its siblings, so it keeps those lines
(and, where it picks the wrong block, misses the article). Neither alone is right on every set;
together they are, on evidence only:

- a line both extractors read is kept (it is ours already);
- a line only the second one read is added when it lies inside the article, between two lines
  both read (the main content block), passes the same line filters as ours
  (:func:`pipeline.clean.clean_lines`: boilerplate, link runs, the repeated title) and is
  :func:`insertable` (not a link, not a lone label);
- nothing outside that span is added, so the second extractor choosing the wrong block costs
  nothing but its time; captions, code, tables and blocks named as widgets (captions, galleries,
  promotions) are not read from it at all.

Example::

    lines = add_from_second(lines, readability_lines(tree_copy), ctx)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from pipeline.clean import LineContext, clean_lines, is_link_line, norm_line, shingles, words

__all__ = ["add_from_second", "insertable", "merge_second", "readability_lines"]

# blocks whose text is a line of its own
_BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre",
    "blockquote", "dd", "dt", "ul", "ol", "dl", "table", "tbody", "thead", "tfoot", "br", "hr",
    "header", "footer", "address",
))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# captions and media, code, tables: our own extraction reads these its own way (or leaves them
# out), so the second one's version of them is no evidence either way
_SKIP_TAGS = frozenset((
    "figure", "figcaption", "img", "picture", "video", "audio", "script", "style", "noscript",
    "iframe", "object", "svg", "button", "form", "pre", "code", "table", "select", "textarea",
))
# class/id words of the blocks around the story that readability keeps with it: captions and
# credits, galleries and slide rails, promotions, sharing and newsletter boxes, bylines
_NOT_TEXT = re.compile(
    r"caption|credit|gallery|slide|swiper|carousel|rail|promo|related|trending|"
    r"newsletter|signup|subscribe|advert|sponsor|share|social|byline|author|toolbar|"
    r"breadcrumb|meta|tags?(?![a-z])",
    re.IGNORECASE,
)
_MAX_WIDGET_WORDS = 80  # a block named so but holding more text than this is the story itself
HEADING, ITEM, TEXT = "heading", "item", "text"
_MATCH_SHARE = 0.5  # a line is "read by both" when this share of its 4-word shingles is ours
_MIN_MATCH_WORDS = 4
_MIN_TEXT_WORDS = 4
_LINK_SHARE = 0.5
_SPACE = re.compile(r"\s+")


def readability_lines(tree: HtmlElement) -> list[tuple[str, str]]:
    """readability-lxml's article text of ``tree`` (which it changes: pass a copy you do not
    need), one block a line, each with its kind (HEADING, ITEM, TEXT); list items written as
    ``- item``, the way trafilatura writes them. A page it cannot read gives no lines."""
    from readability import Document  # the second extractor, loaded only where it runs

    try:
        # no URL: making the page's links absolute is a sixth of readability's time, and its
        # links are never read here
        summary = Document(tree).summary(html_partial=True)
        if not summary or not summary.strip():
            return []
        root = fragment_fromstring(summary, create_parent="div")
    except Exception:  # readability-lxml asserts and raises many types on odd pages
        return []  # no evidence, and our own extraction stands as it is
    out: list[tuple[str, str]] = []
    _walk(root, out, [], TEXT)
    return [(k, t) for k, t in ((k, _SPACE.sub(" ", x).strip()) for k, x in out) if _has_words(t)]


def _has_words(line: str) -> bool:
    return any(ch.isalnum() for ch in line)


def _walk(el: etree._Element, out: list[tuple[str, str]], buf: list[str], kind: str) -> None:
    """Append the text of ``el`` to ``buf``; a block element closes the current line first."""
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _SKIP_TAGS or not tag or _widget(child):
            buf.append(child.tail or "")
            continue
        if tag in _BLOCK_TAGS:
            _flush(out, buf, kind)
            inner = HEADING if tag in _HEADINGS else ITEM if tag == "li" else kind
            buf.append("- " if tag == "li" else "")
            buf.append(child.text or "")
            _walk(child, out, buf, inner)
            _flush(out, buf, inner)
        else:  # inline: its text runs on in the current line
            buf.append(child.text or "")
            _walk(child, out, buf, kind)
        buf.append(child.tail or "")
    if el.getparent() is None:
        _flush(out, buf, kind)


def _widget(el: etree._Element) -> bool:
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    return (
        bool(names.strip())
        and _NOT_TEXT.search(names) is not None
        and words(el.text_content()) <= _MAX_WIDGET_WORDS
    )


def _flush(out: list[tuple[str, str]], buf: list[str], kind: str) -> None:
    line = "".join(buf)
    buf.clear()
    if line.strip() and line.strip() != "-":
        out.append((kind, line))


def add_from_second(
    first: list[str], second: list[tuple[str, str]], ctx: LineContext
) -> list[str]:
    """``first`` (our clean lines) with the lines of ``second`` (the second extractor's, with
    their kinds) that pass our line filters and :func:`merge_second`'s test."""
    kept = Counter(clean_lines([text for _, text in second], ctx))
    lines: list[tuple[str, str]] = []
    for kind, text in second:
        text = " ".join(text.split())
        if kept[text] > 0:
            kept[text] -= 1
            lines.append((kind, text))
    return merge_second(first, lines, ctx.links)


def merge_second(
    first: list[str], second: list[tuple[str, str]], links: frozenset[str] = frozenset()
) -> list[str]:
    """``first`` with the lines only ``second`` read that lie between two lines both read and
    are :func:`insertable`, each inserted after the line of ``first`` its predecessor matched."""
    if not first or not second:
        return first
    keys = [f" {norm_line(line)} " for line in first]
    joined = "".join(keys)
    starts: list[int] = []
    pos = 0
    for key in keys:
        starts.append(pos)
        pos += len(key)
    owner: dict[tuple[str, ...], int] = {}
    for i, line in enumerate(first):
        for s in shingles(line):
            owner.setdefault(s, i)
    places: list[int | None] = []
    last = 0
    for _, line in second:
        place = _place(line, keys, joined, starts, owner, last)
        places.append(place)
        last = last if place is None else place
    anchors = [j for j, p in enumerate(places) if p is not None]
    if len(anchors) < 2:
        return first
    added: dict[int, list[str]] = {}
    seen = set(keys)
    for a, b in zip(anchors, anchors[1:], strict=False):
        after = places[a]
        assert after is not None
        for kind, line in second[a + 1 : b]:
            key = f" {norm_line(line)} "
            if key not in seen and insertable(kind, line, links):
                added.setdefault(after, []).append(line)
            seen.add(key)
    if not added:
        return first
    out: list[str] = []
    for i, line in enumerate(first):
        out.append(line)
        out.extend(added.get(i, ()))
    return out


def insertable(kind: str, line: str, links: frozenset[str]) -> bool:
    """Is a line only the second extractor read article text? Not a link (those between
    paragraphs are "read more" lines), and a heading, a list item, or a text of a few words
    (a lone short text line is a label, a button or a credit)."""
    if is_link_line(line, links, max_words=1000, share=_LINK_SHARE):
        return False
    return kind != TEXT or words(line) >= _MIN_TEXT_WORDS


def _place(
    line: str,
    keys: list[str],
    joined: str,
    starts: list[int],
    owner: dict[tuple[str, ...], int],
    after: int,
) -> int | None:
    """Index of the line of the first text that holds ``line`` (the first one from ``after``
    on, else the first one), or None when it is not there."""
    key = f" {norm_line(line)} "
    if not key.strip():
        return None
    if words(line) < _MIN_MATCH_WORDS:  # the same short line, not a few words inside another
        return next(
            (i for i in (*range(after, len(keys)), *range(after)) if keys[i] == key), None
        )
    at = joined.find(key, starts[after])
    if at < 0:
        at = joined.find(key)
    if at >= 0:
        return bisect_right(starts, at) - 1
    sh = shingles(line)
    if not sh:
        return None
    hits = [owner[s] for s in sh if s in owner]
    if len(hits) < _MATCH_SHARE * len(sh):
        return None
    return max(set(hits), key=hits.count)
