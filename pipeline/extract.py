"""Article extraction: the only module that imports trafilatura.

Everything else calls :func:`extract_article`; it takes raw HTML and the page URL and returns an
:class:`Article` with clean text and metadata, or raises :class:`NotAnArticle` /
:class:`ExtractionError`. Both inputs and outputs are plain, picklable values so the call can run
in a worker process.

The steps: decode bytes (:mod:`common.decode`), parse, read metadata and JSON-LD/microdata
(:mod:`pipeline.structured`), prune widgets and unwrap layout tables (:mod:`pipeline.clean`), run
trafilatura once in precision mode (again in balanced mode with its fallbacks if that gives no
usable text), then filter its lines (:func:`pipeline.clean.clean_lines`) and add the lines of
a second extractor that agree with it (:mod:`pipeline.agree`).
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from lxml import etree

from common.errors import ExtractionError, NotAnArticle
from pipeline.agree import add_from_second, readability_lines
from pipeline.clean import (
    LineContext,
    clean_lines,
    is_link_line,
    link_texts,
    norm_line,
    paragraphs,
    prune_tree,
    running_words,
    unwrap_layout_tables,
    words,
)
from pipeline.markdown import article_markdown, markdown_blocks, page_links
from pipeline.metadata import (
    TAG_SPLIT,
    clean_title,
    find_date,
    iso_date,
    published_date,
    split_list,
)
from pipeline.pagetype import (
    drop_added_teasers,
    drop_teasers,
    first_text,
    in_teasers,
    page_signals,
    teaser_boxes,
)
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
_MAX_REPEATED_SHARE = 0.2
_STORY_PARAGRAPH_WORDS = 25
_FRAGMENT_SHARE = 0.5  # a first pass with less of the page's running text than this is retried
_PUBLISHED_META = '//meta[@property="article:published_time"]/@content'
_MODIFIED_META = '//meta[@property="article:modified_time"]/@content'


def _trafilatura_doc(tree: HtmlElement, url: str, precision: bool, fast: bool) -> Any:
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
        fast=fast,
        with_metadata=False,
    )


def _metadata(tree: HtmlElement, url: str, language: str | None) -> Any:
    """trafilatura's metadata steps that pay for themselves: meta tags, JSON-LD, title, date.

    (Its full ``extract_metadata`` also searches the body for tags and licences, which costs
    much of the extraction time for fields we do not keep.)
    """
    from trafilatura.metadata import (
        Document,
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_title,
    )

    try:
        meta = extract_meta_json(tree, examine_meta(tree))
        if not meta.title:
            meta.title = extract_title(tree)
        if not meta.author:
            meta.author = extract_author(tree)
        meta.date = find_date(tree, url, language)  # htmldate's, as trafilatura's
    except Exception:  # trafilatura's metadata helpers are not hardened against odd pages
        meta = Document()
    return meta


_P_TAG = re.compile(r"<p[\s>]", re.IGNORECASE)
_MIN_RAW_PARAGRAPHS = 3


def _parse(html: str) -> HtmlElement:
    """The page's tree. libxml2 gives up on some malformed documents (a stray ``</html>`` inside
    an unclosed table drops the rest of the page): when its tree holds fewer than half of the
    paragraphs written in the source, parse again with html5lib, which follows the browsers'
    recovery rules (mode 8)."""
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None or tree.find(".//body") is None and len(tree) < 1:
        raise ExtractionError("not parsable as HTML")
    written = len(_P_TAG.findall(html))
    if written >= _MIN_RAW_PARAGRAPHS and 2 * sum(1 for _ in tree.iter("p")) < written:
        import html5lib

        recovered = html5lib.parse(html, treebuilder="lxml", namespaceHTMLElements=False)
        again = load_html(etree.tostring(recovered, encoding="unicode"))
        if again is not None:
            tree = again
    return tree


def _page_fields(tree: HtmlElement, url: str, info: StructuredInfo) -> dict[str, Any]:
    """The Article's metadata fields, read from the untouched tree."""
    language = info.language or first_text(tree, "/html/@lang")
    meta = _metadata(tree, url, language)
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
        "language": language,
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


def _body_lines(tree: HtmlElement, url: str, precision: bool, fast: bool) -> tuple[list[str], Any]:
    """trafilatura's text of the prepared tree, as non-empty lines, and its XML body (for the
    Markdown, made only for the pass that is kept)."""
    doc = _trafilatura_doc(tree, url, precision=precision, fast=fast)
    if not doc:
        return [], None
    lines = [line for line in str(doc.text or "").splitlines() if line.strip()]
    return lines, doc.body


def _usable(lines: list[str], opts: ExtractOptions, running: int) -> bool:
    """Is the first pass the article? Enough words, one paragraph of running text, and not a
    small fragment of a page that holds much more running text (mode 6: a first section
    accepted on a long page)."""
    n = words(" ".join(lines))
    return (
        n >= max(opts.min_words, _RETRY_WORDS)
        and any(words(line) >= _MIN_PARAGRAPH_WORDS for line in lines)
        and n >= _FRAGMENT_SHARE * running
    )


def _repetitive(lines: list[str]) -> bool:
    """True when a good part of the text is paragraphs said twice: the retry read a page's
    hidden copies (AMP blocks, data islands) as well as the article."""
    seen: set[str] = set()
    repeated = total = 0
    for line in lines:
        n = words(line)
        total += n
        if n >= _MIN_PARAGRAPH_WORDS:
            key = norm_line(line)
            repeated += n if key in seen else 0
            seen.add(key)
    return repeated > _MAX_REPEATED_SHARE * max(1, total)


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
    article_markup, login = signals.article_markup, signals.login
    fields = _page_fields(tree, url, info)
    boxes = teaser_boxes(tree)
    ctx = LineContext(
        title=fields["title"],
        authors=fields["authors"],
        links=link_texts(tree),
        drop_lines=opts.drop_lines,
        structured_body=info.body,
    )
    _prepare(tree, opts, wall)
    running = running_words(tree)
    links = page_links(tree, url)  # the retry's tree is prepared the same: same links
    # the second extractor reads a copy: trafilatura changes the tree it is given (a copy costs
    # a tenth of parsing the page again)
    second_tree = deepcopy(tree)
    raw, body = _body_lines(tree, url, precision=True, fast=True)
    lines = clean_lines(raw, ctx)
    if not _usable(lines, opts, running):
        # precision mode sometimes keeps only a paywall, a notice or the first section: try its
        # balanced mode once (trafilatura changes the tree it is given, so parse again)
        again = _parse(html)
        _prepare(again, opts, wall)
        raw_again, body_again = _body_lines(again, url, precision=False, fast=False)
        lines_again = drop_added_teasers(lines, clean_lines(raw_again, ctx), boxes)
        if words(" ".join(lines_again)) > words(" ".join(lines)) and not _repetitive(lines_again):
            raw, lines, body = raw_again, lines_again, body_again
    if words(" ".join(lines)) < running:
        # doubtful: our text is shorter than the page's running text, so something may be
        # missing. Only there does the second extractor run (measured on the three sets: it kept
        # 81-86% of its gain on two of them for 38-75% of the pages' cost)
        lines = add_from_second(lines, readability_lines(second_tree), ctx)
    listing = signals.listing_url
    if not article_markup and not listing:
        link_words = sum(words(line) for line in raw if is_link_line(line, ctx.links))
        # mostly headlines: an index page
        listing = link_words > _MAX_LINK_SHARE * max(1, sum(words(line) for line in raw))
    if not in_teasers(paragraphs(lines), boxes):
        lines = drop_teasers(lines, boxes)
    paras = paragraphs(lines)
    text = "\n\n".join(paras)
    if not article_markup and in_teasers(paras, boxes):
        listing = True  # the text is the summaries under linked headlines: a section front
    if signals.home_url and sum(1 for p in paras if words(p) >= _STORY_PARAGRAPH_WORDS) < 3:
        listing = True  # a home or topic page whose text is not a story
    n_words = words(text)
    if n_words < opts.min_words:
        raise NotAnArticle(f"too little text ({n_words} words)")
    if not any(words(line) >= _MIN_PARAGRAPH_WORDS for line in lines):
        raise NotAnArticle("no paragraph of running text")
    if listing and not article_markup:
        raise NotAnArticle("the page is a listing or search page")
    if login and n_words < _LOGIN_MAX_WORDS and not article_markup:
        raise NotAnArticle("the page is a login form")
    markdown = article_markdown(markdown_blocks(body, links), lines)
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
