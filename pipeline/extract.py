"""Article extraction: the only module that imports trafilatura.

Everything else calls :func:`extract_article`; it takes raw HTML and the page URL and returns an
:class:`Article` with clean text and metadata, or raises :class:`NotAnArticle` /
:class:`ExtractionError`. Both inputs and outputs are plain, picklable values so the call can run
in a worker process.

The steps: decode bytes (:mod:`common.decode`), parse, read metadata and JSON-LD/microdata
(:mod:`pipeline.structured`), prune widgets and unwrap layout tables (:mod:`pipeline.clean`), run
trafilatura once in precision mode (again in balanced mode with its fallbacks if that gives no
usable text), then filter its lines (:func:`pipeline.clean.clean_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from common.errors import ExtractionError, NotAnArticle
from pipeline.clean import (
    LineContext,
    clean_lines,
    is_link_line,
    link_texts,
    paragraphs,
    prune_tree,
    unwrap_layout_tables,
    words,
)
from pipeline.markdown import article_markdown, markdown_blocks, page_links
from pipeline.metadata import TAG_SPLIT, clean_title, iso_date, published_date, split_list
from pipeline.pagetype import first_text, in_teasers, page_signals, teaser_boxes
from pipeline.paywall import Paywall, drop_walled, find_paywall
from pipeline.structured import StructuredInfo, read_structured

if TYPE_CHECKING:
    from lxml.html import HtmlElement

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
    """One extracted article. Dates are ISO 8601 strings (a date or a date-time), or None.

    ``text``: paragraphs separated by one blank line, the title not repeated; a list is one
    paragraph with one item per line (no markers). ``markdown``: the same lines as Markdown
    (:mod:`pipeline.markdown`). ``paywalled``: the page says the article is not free; the text
    is then its free teaser (:mod:`pipeline.paywall`).
    """

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
    markdown: str = ""
    paywalled: bool = False


_MIN_PARAGRAPH_WORDS = 12  # an article has at least one paragraph of running text
_MAX_LINK_SHARE = 0.5
_LOGIN_MAX_WORDS = 150
_RETRY_WORDS = 60
_PUBLISHED_META = '//meta[@property="article:published_time"]/@content'
_MODIFIED_META = '//meta[@property="article:modified_time"]/@content'


def _trafilatura_doc(tree: HtmlElement, url: str, precision: bool) -> Any:
    """One trafilatura run: precision mode on its own extractor (fast, and on news pages more
    precise with our filters than with its readability/jusText fallbacks), or balanced mode with
    the fallbacks for pages where precision mode finds no usable text."""
    import trafilatura  # the one import of trafilatura in the project

    return trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        favor_precision=precision,
        fast=precision,
        with_metadata=False,
    )


def _metadata(tree: HtmlElement, url: str) -> Any:
    """trafilatura's metadata steps that pay for themselves: meta tags, JSON-LD, title, date.

    (Its full ``extract_metadata`` also searches the body for tags and licences, which costs
    much of the extraction time for fields we do not keep.)
    """
    from htmldate import find_date  # trafilatura's own date finder
    from trafilatura.metadata import (
        Document,
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_title,
    )
    from trafilatura.settings import set_date_params

    try:
        meta = extract_meta_json(tree, examine_meta(tree))
        if not meta.title:
            meta.title = extract_title(tree)
        if not meta.author:
            meta.author = extract_author(tree)
        meta.date = find_date(tree, **{**set_date_params(True), "url": url})
    except Exception:  # trafilatura's metadata helpers are not hardened against odd pages
        meta = Document()
    return meta


def _parse(html: str) -> HtmlElement:
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None or tree.find(".//body") is None and len(tree) < 1:
        raise ExtractionError("not parsable as HTML")
    return tree


def _page_fields(tree: HtmlElement, url: str, info: StructuredInfo) -> dict[str, Any]:
    """The Article's metadata fields, read from the untouched tree."""
    meta = _metadata(tree, url)
    canonical = first_text(tree, '//link[@rel="canonical"]/@href')
    return {
        "title": clean_title((meta.title or info.headline or "").strip(), tree),
        "canonical_url": urljoin(url, canonical) if canonical else None,
        "authors": split_list(meta.author) or info.authors,
        "published_at": published_date(
            [info.published, first_text(tree, _PUBLISHED_META)], meta.date
        ),
        "modified_at": iso_date(info.modified)
        or iso_date(first_text(tree, _MODIFIED_META)),
        "language": info.language or first_text(tree, "/html/@lang"),
        "site_name": meta.sitename or None,
        "description": meta.description or None,
        "tags": tuple(dict.fromkeys(split_list(meta.tags, TAG_SPLIT)
                                    + split_list(meta.categories, TAG_SPLIT)))
        or info.keywords,
        "image_url": meta.image or None,
    }


def _prepare(tree: HtmlElement, opts: ExtractOptions, wall: Paywall) -> None:
    if wall.paywalled:
        drop_walled(tree, wall)
    prune_tree(tree, opts.drop_xpaths, opts.drop_css)
    unwrap_layout_tables(tree)


def _body_lines(
    tree: HtmlElement, url: str, opts: ExtractOptions, precision: bool, wall: Paywall
) -> tuple[list[str], Any]:
    """trafilatura's text of the pruned tree, as non-empty lines, and its Markdown blocks."""
    _prepare(tree, opts, wall)
    links = page_links(tree, url)
    doc = _trafilatura_doc(tree, url, precision=precision)
    if not doc:
        return [], []
    lines = [line for line in str(doc.text or "").splitlines() if line.strip()]
    return lines, markdown_blocks(doc.body, links)


def _usable(lines: list[str], opts: ExtractOptions) -> bool:
    return words(" ".join(lines)) >= max(opts.min_words, _RETRY_WORDS) and any(
        words(line) >= _MIN_PARAGRAPH_WORDS for line in lines
    )


def _extract(html: str | bytes, url: str, opts: ExtractOptions) -> Article:
    from common.decode import decode_page

    if isinstance(html, bytes):
        html = decode_page(html)
    html = html.replace("\x00", "")
    if not html.strip():
        raise NotAnArticle("empty page")
    tree = _parse(html)
    info = read_structured(tree)
    wall = find_paywall(tree)
    signals = page_signals(tree, url, is_article=info.is_article)
    article_markup, listing, login = signals.article_markup, signals.listing_url, signals.login
    fields = _page_fields(tree, url, info)
    boxes = [] if article_markup else teaser_boxes(tree)
    ctx = LineContext(
        title=fields["title"],
        authors=fields["authors"],
        links=link_texts(tree),
        drop_lines=opts.drop_lines,
        structured_body=info.body,
    )
    raw, blocks = _body_lines(tree, url, opts, precision=True, wall=wall)
    lines = clean_lines(raw, ctx)
    if not _usable(lines, opts):
        # precision mode sometimes keeps only a paywall or a notice: try its balanced mode once
        # (trafilatura changes the tree it is given, so parse again)
        raw_again, blocks_again = _body_lines(_parse(html), url, opts, False, wall)
        lines_again = clean_lines(raw_again, ctx)
        if words(" ".join(lines_again)) > words(" ".join(lines)):
            raw, lines, blocks = raw_again, lines_again, blocks_again
    if not article_markup and not listing:
        link_words = sum(words(line) for line in raw if is_link_line(line, ctx.links))
        # mostly headlines: an index page
        listing = link_words > _MAX_LINK_SHARE * max(1, sum(words(line) for line in raw))
    paras = paragraphs(lines)
    text = "\n\n".join(paras)
    if in_teasers(paras, boxes):
        listing = True  # the text is the summaries under linked headlines: a section front
    n_words = words(text)
    if n_words < opts.min_words:
        raise NotAnArticle(f"too little text ({n_words} words)")
    if not any(words(line) >= _MIN_PARAGRAPH_WORDS for line in lines):
        raise NotAnArticle("no paragraph of running text")
    if listing and not article_markup:
        raise NotAnArticle("the page is a listing or search page")
    if login and n_words < _LOGIN_MAX_WORDS and not article_markup:
        raise NotAnArticle("the page is a login form")
    markdown = article_markdown(blocks, lines)
    return Article(url=url, text=text, markdown=markdown, paywalled=wall.paywalled, **fields)


def extract_article(html: str | bytes, url: str, opts: ExtractOptions | None = None) -> Article:
    """Extract the article of one page.

    Raises NotAnArticle for index, tag, search and login pages and pages without a body, and
    ExtractionError (never anything else) when the page cannot be extracted.

    Example::

        art = extract_article(response.body, response.url, ExtractOptions())
        print(art.title, art.text)
    """
    try:
        return _extract(html, url, opts or ExtractOptions())
    except ExtractionError:
        raise
    except Exception as exc:  # lxml and trafilatura raise many unrelated types on junk
        raise ExtractionError(f"extraction failed: {type(exc).__name__}: {exc}") from exc
