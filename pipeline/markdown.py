"""The article as Markdown, made from the same extraction as its text.

trafilatura's extraction result is an XML tree (``p``, ``head``, ``list``/``item``, ``quote``,
``table``/``row``/``cell``, ``hi``, ``code``...). :func:`markdown_blocks` turns it into Markdown
blocks, each with the plain words it stands for; :func:`article_markdown` keeps, in order, the
blocks whose words are a line the text filters kept (:func:`pipeline.clean.clean_lines`), so the
Markdown is pruned and filtered exactly as the text is: a line the filters dropped (boilerplate,
the repeated title, a byline, a link list) is not in the Markdown either. A kept line no block
matches (the filters trimmed it) is written as a plain paragraph.

Links come from the pruned page: extraction runs without trafilatura's link output (which would
change what it extracts), so :func:`page_links` reads the anchors of the cleaned tree and each
block links the first occurrence of an anchor's text.

Text is escaped: what a page wrote is never read as Markdown or HTML markup.

Example::

    blocks = markdown_blocks(doc.body, page_links(tree, url))
    md = article_markdown(blocks, kept_lines)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from pipeline.clean import norm_line

__all__ = ["Block", "PageLink", "article_markdown", "escape", "markdown_blocks", "page_links"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)(#{1,6}|[+\-=>])(?=\s|$)")
_NUMBER_START = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")
_MIN_ANCHOR = 4  # characters: shorter anchor texts ("a", "1") are not linked
_INLINE = {"#b": "**", "#strong": "**", "#i": "*", "#em": "*", "#u": "", "#t": "`"}


@dataclass(frozen=True, slots=True)
class Block:
    """One Markdown line: ``md`` as written, ``key`` its words (:func:`pipeline.clean.norm_line`
    of its plain text), ``group`` the list/table/quote it belongs to (blocks of one group are
    written without a blank line between them), ``header``: a table's header row."""

    md: str
    key: str
    group: int = 0
    header: bool = False


def escape(text: str) -> str:
    """``text`` with Markdown's inline markup characters escaped, and a line-start marker
    (``#``, ``-``, ``>``, ``1.``) made literal."""
    out = _SPECIAL.sub(r"\\\1", text)
    return _NUMBER_START.sub(r"\1\\\2", _LINE_START.sub(r"\1\\\2", out))


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link of the page: its text, and its ``href`` as written, resolved against ``base``
    only when a block links it (most of a page's links are in no block)."""

    text: str
    href: str
    base: str

    def target(self) -> str | None:
        """The absolute URL, or None when it is not http(s)."""
        target = urljoin(self.base, self.href)
        if urlsplit(target).scheme not in ("http", "https"):
            return None
        return quote(target, safe=":/?#@!$&'*+,;=%~")


def page_links(tree: Any, url: str) -> list[PageLink]:
    """Each link of the (cleaned) page with an href and a text, in page order."""
    out: list[PageLink] = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href:
            continue
        text = " ".join(a.text_content().split())
        if len(text) >= _MIN_ANCHOR:
            out.append(PageLink(text, href, url))
    return out


def _inline(el: Any) -> str:
    """An element's text with bold/italic kept, whitespace collapsed, markup escaped."""
    parts: list[str] = [escape(el.text or "")]
    for child in el:
        if child.tag == "lb":
            parts.append(" ")
        else:
            inner = _inline(child)
            mark = _INLINE.get(child.get("rend", ""), "") if child.tag == "hi" else ""
            parts.append(f"{mark}{inner.strip()}{mark}" if mark and inner.strip() else inner)
        parts.append(escape(child.tail or ""))
    return " ".join("".join(parts).split())


def _plain(el: Any) -> str:
    return " ".join(" ".join(el.itertext()).split())


def _link(md: str, links: list[tuple[str, PageLink]], used: set[int]) -> str:
    """``md`` with the first occurrence of each unused http(s) link's (escaped) text linked."""
    for i, (esc, link) in enumerate(links):
        if i in used:
            continue
        at = md.find(esc)
        if at < 0 or "](" in md[max(0, at - 2) : at + len(esc) + 2]:
            continue
        href = link.target()
        if href is None:  # mailto:, javascript:...: never linked
            used.add(i)
            continue
        md = f"{md[:at]}[{esc}]({href}){md[at + len(esc) :]}"
        used.add(i)
    return md


def markdown_blocks(body: Any, links: Sequence[PageLink] = ()) -> list[Block]:
    """The Markdown blocks of trafilatura's XML ``body``, in order."""
    if body is None:
        return []
    pending = [(escape(link.text), link) for link in links]  # escaped once, not once per block
    used: set[int] = set()
    out: list[Block] = []
    group = 0

    def add(md: str, el: Any, grp: int = 0, header: bool = False) -> None:
        key = norm_line(_plain(el))
        if key:
            out.append(Block(_link(md, pending, used), key, grp, header))

    def walk(el: Any, quote_group: int = 0) -> None:
        nonlocal group
        for child in el:
            tag = child.tag
            prefix = "> " if quote_group else ""
            if tag == "head":
                level = (child.get("rend") or "h2").lstrip("h")
                hashes = "#" * (int(level) if level.isdigit() and 1 <= int(level) <= 6 else 2)
                add(f"{hashes} {_inline(child)}", child)
            elif tag == "list":
                group += 1
                ordered = child.get("rend") == "ol"
                for n, item in enumerate(child.iter("item"), 1):
                    marker = f"{n}." if ordered else "-"
                    add(f"{prefix}{marker} {_inline(item)}", item, quote_group or group)
            elif tag == "quote":
                group += 1
                if len(child) and all(c.tag in ("p", "list", "head") for c in child):
                    walk(child, group)
                else:
                    add(f"> {_inline(child)}", child, group)
            elif tag == "table":
                group += 1
                for r, row in enumerate(child.iter("row")):
                    cells = [_inline(c) for c in row.iter("cell")]
                    add("| " + " | ".join(cells) + " |", row, group, header=r == 0)
            elif tag == "code":
                group += 1
                code = (child.text or "").replace("```", "\u02cb\u02cb\u02cb")
                add(f"```\n{code.strip(chr(10))}\n```", child)
            elif tag in ("p", "item", "cell", "row"):
                add(f"{prefix}{_inline(child)}", child, quote_group)
            elif len(child):
                walk(child, quote_group)
            elif child.text and child.text.strip():
                add(f"{prefix}{_inline(child)}", child, quote_group)

    walk(body)
    return out


def article_markdown(blocks: Sequence[Block], kept: Iterable[str]) -> str:
    """The Markdown of the kept text lines ``kept``: for each, the next block with its words,
    or the line itself as a paragraph; a table's header row is followed by its rule."""
    lines: list[tuple[str, int, bool]] = []
    j = 0
    for line in kept:
        key = norm_line(line)
        match = next((i for i in range(j, len(blocks)) if blocks[i].key == key), None)
        if match is None:
            lines.append((escape(line), 0, False))
            continue
        b = blocks[match]
        lines.append((b.md, b.group, b.header))
        j = match + 1
    parts: list[str] = []
    prev = 0
    for md, grp, header in lines:
        if parts:
            parts.append("\n" if grp and grp == prev else "\n\n")
        parts.append(md)
        if header:
            parts.append("\n|" + "---|" * md.count(" | ") + "---|")
        prev = grp
    return "".join(parts)
