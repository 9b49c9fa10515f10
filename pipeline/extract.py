"""Article extraction: the only module that imports trafilatura.

Everything else calls :func:`extract_article`; it takes raw HTML and the page URL and returns an
:class:`Article` with clean text and metadata, or raises :class:`NotAnArticle` /
:class:`ExtractionError`. Both inputs and outputs are plain, picklable values so the call can run
in a worker process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.clean import clean_text, prune_tree
from pipeline.errors import ExtractionError, NotAnArticle

__all__ = ["Article", "ExtractOptions", "extract_article"]


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """Per-source extraction settings, built from a source's ``clean:`` block in config.yaml.

    drop_xpaths / drop_css: elements removed before extraction.
    drop_lines: regular expressions; a line of extracted text that matches one is removed.
    min_words: pages whose clean text has fewer words are not articles.
    """

    drop_xpaths: tuple[str, ...] = ()
    drop_css: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    min_words: int = 25


@dataclass(frozen=True, slots=True)
class Article:
    """One extracted article. Dates are ISO 8601 strings (a date or a date-time), or None."""

    url: str
    text: str
    title: str | None = None
    canonical_url: str | None = None
    authors: tuple[str, ...] = ()
    published_at: str | None = None
    modified_at: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default=())
    image_url: str | None = None


_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\||&)\s*")


def _split_list(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        items = _AUTHOR_SPLIT.split(str(value))
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def extract_article(html: str | bytes, url: str, opts: ExtractOptions | None = None) -> Article:
    """Extract the article of one page.

    Example::

        art = extract_article(response.body, response.url, ExtractOptions())
        print(art.title, art.text)
    """
    import trafilatura  # the one import of trafilatura in the project
    from lxml import html as lxml_html

    opts = opts or ExtractOptions()
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        raise NotAnArticle("empty page")
    try:
        tree = lxml_html.document_fromstring(html)
    except Exception as exc:  # lxml raises several unrelated types on junk
        raise ExtractionError(f"unparsable HTML: {exc}") from exc
    canonical = None
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        canonical = str(href).strip() or None
        break
    prune_tree(tree, opts.drop_xpaths, opts.drop_css)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            with_metadata=True,
        )
    except Exception as exc:
        raise ExtractionError(f"extraction failed: {exc}") from exc
    if doc is None:
        raise NotAnArticle("no article body found")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    title = (data.get("title") or "").strip() or None
    text = clean_text(data.get("text") or "", title=title, drop_lines=opts.drop_lines)
    if len(text.split()) < opts.min_words:
        raise NotAnArticle(f"too little text ({len(text.split())} words)")
    return Article(
        url=url,
        text=text,
        title=title,
        canonical_url=canonical,
        authors=_split_list(data.get("author")),
        published_at=data.get("date") or None,
        modified_at=None,
        language=data.get("language") or None,
        site_name=data.get("sitename") or None,
        description=data.get("description") or None,
        tags=_split_list(data.get("tags")) + _split_list(data.get("categories")),
        image_url=data.get("image") or None,
    )
