"""Article extraction: the only module that imports trafilatura.

Everything else calls :func:`extract_article`; it takes raw HTML and the page URL and returns an
:class:`Article` with clean text and metadata, or raises :class:`NotAnArticle` /
:class:`ExtractionError`. Both inputs and outputs are plain, picklable values so the call can run
in a worker process.

The steps: decode bytes (:mod:`pipeline.decode`), parse, read metadata and JSON-LD/microdata
(:mod:`pipeline.structured`), prune widgets and unwrap layout tables (:mod:`pipeline.clean`), run
trafilatura once in precision mode (again in balanced mode with its fallbacks if that gives no
usable text), then filter its lines (:func:`pipeline.clean.clean_lines`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from pipeline.clean import (
    LineContext,
    clean_lines,
    is_link_line,
    link_texts,
    norm_line,
    paragraphs,
    prune_tree,
    unwrap_layout_tables,
    words,
)
from pipeline.errors import ExtractionError, NotAnArticle
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
    template_lines: normalised lines learned as this source's template (see
    :func:`pipeline.template.learn_template`); a line equal to one of them is removed.
    """

    drop_xpaths: tuple[str, ...] = ()
    drop_css: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    min_words: int = 25
    template_lines: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Article:
    """One extracted article. Dates are ISO 8601 strings (a date or a date-time), or None.

    ``text``: paragraphs separated by one blank line, the title not repeated; a list is one
    paragraph with one item per line (no markers).
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


_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\||&)\s*")
_TAG_SPLIT = re.compile(r"\s*[;,，、|]\s*")
_NOT_ARTICLE_PATH = re.compile(
    r"/(tag|tags|category|categories|topic|topics|search|login|signin|sign-in|register|"
    r"account|author|authors|archive)(/|$|\?)|/page/\d+|[?&](s|q|search)=",
    re.IGNORECASE,
)
_LOGIN_WORDS = re.compile(
    r"log[ -]?in|sign[ -]?in|anmelden|einloggen|connexion|se connecter|iniciar sesi[oó]n|"
    r"acceder|accedi|entrar|登录|登入|ログイン",
    re.IGNORECASE,
)
_ARTICLE_OG_TYPES = {"article", "news", "blog", "blogposting", "newsarticle", "video.other"}
_MIN_PARAGRAPH_WORDS = 12
_MAX_LINK_SHARE = 0.5
_LOGIN_MAX_WORDS = 150
_RETRY_WORDS = 60
_TITLE_SEP = re.compile(r"\s+(?:\||::|-|–|—|·|»|/)\s+|\s*_\s*")
_MAX_HEADING_CHARS = 300
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\b")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_LINKED_HEADINGS = "//h2[.//a] | //h3[.//a] | //h4[.//a] | //a[.//h2 or .//h3 or .//h4]"
_MIN_TEASERS = 4
_MAX_TEASER_CHARS = 800
_PROBE_CHARS = 60
_TEASER_SHARE = 0.6


def _split_list(value: Any, sep: re.Pattern[str] = _AUTHOR_SPLIT) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list | tuple):
        items = [part for v in value for part in sep.split(str(v))]
    else:
        items = sep.split(str(value))
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def _iso(value: str | None) -> str | None:
    """The value as an ISO 8601 date or date-time if it is one (or an RFC 2822 or d.m.yyyy
    date); else None."""
    if not value:
        return None
    v = value.strip()
    try:
        if _ISO_DATETIME.match(v):
            return datetime.fromisoformat(v.replace("Z", "+00:00")).isoformat()
        if _ISO_DATE.match(v):
            return v[:10]
        m = _DMY.fullmatch(v)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        return parsedate_to_datetime(v).isoformat()
    except (ValueError, TypeError, IndexError):
        return None


def _published(candidates: list[str | None], found: str | None) -> str | None:
    """The publication date: htmldate's ``found`` day, told as the structured date-time when
    markup gives one on that day (markup alone when htmldate finds nothing)."""
    stamps = [iso for iso in (_iso(c) for c in candidates) if iso]
    day = _iso(found)
    if day is None:
        return stamps[0] if stamps else None
    return next((s for s in stamps if s[:10] == day[:10]), day)


def _first(tree: HtmlElement, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        text = " ".join(str(value).split())
        if text:
            return text
    return None


def _page_signals(tree: HtmlElement, url: str, info: StructuredInfo) -> tuple[bool, bool, bool]:
    """(says it is an article, URL of a listing page, has a login form) from markup and URL."""
    og_type = (_first(tree, '//meta[@property="og:type"]/@content') or "").lower()
    article_markup = (
        info.is_article
        or og_type in _ARTICLE_OG_TYPES
        or bool(tree.xpath('//meta[@property="article:published_time"]'))
    )
    login = bool(tree.xpath('//form//input[@type="password"]')) and bool(
        _LOGIN_WORDS.search(f"{url} {_first(tree, '//title/text()') or ''}")
    )
    parts = urlsplit(url)
    listing = bool(_NOT_ARTICLE_PATH.search(url)) or (parts.path in ("", "/") and not parts.query)
    return article_markup, listing, login


def _teaser_boxes(tree: HtmlElement) -> list[str]:
    """Normalised texts of teaser boxes: small blocks around a linked headline. A listing page is
    a column of them, and its "paragraphs" are their summaries."""
    boxes: list[str] = []
    for heading in tree.xpath(_LINKED_HEADINGS):
        box = heading.getparent()
        if box is not None and len(box.text_content()) <= _MAX_TEASER_CHARS:
            boxes.append(norm_line(box.text_content()))
    return boxes if len(boxes) >= _MIN_TEASERS else []


def _in_teasers(paras: list[str], boxes: list[str]) -> bool:
    """True when most paragraphs are summaries, each in a different teaser box."""
    if not boxes or not paras:
        return False
    hit: set[int] = set()
    for para in paras:
        probe = norm_line(para)[:_PROBE_CHARS]
        hit.update(i for i, box in enumerate(boxes) if probe in box)
    return len(hit) >= max(_MIN_TEASERS - 1, _TEASER_SHARE * len(paras))


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


def _clean_title(title: str | None, tree: HtmlElement) -> str | None:
    """Cut a site name off a ``<title>``-style headline when one part is the page's heading."""
    if not title:
        return None
    parts = [p.strip() for p in _TITLE_SEP.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    headings = {
        " ".join(el.text_content().split()).casefold()
        for el in tree.xpath("//h1 | //h2 | //b | //strong")
        if len(el.text_content()) < _MAX_HEADING_CHARS
    }
    for part in parts:
        if part.casefold() in headings:
            return part
    return title


def _page_fields(tree: HtmlElement, url: str, info: StructuredInfo) -> dict[str, Any]:
    """The Article's metadata fields, read from the untouched tree."""
    meta = _metadata(tree, url)
    canonical = _first(tree, '//link[@rel="canonical"]/@href')
    return {
        "title": _clean_title((meta.title or info.headline or "").strip(), tree),
        "canonical_url": urljoin(url, canonical) if canonical else None,
        "authors": _split_list(meta.author) or info.authors,
        "published_at": _published(
            [info.published, _first(tree, '//meta[@property="article:published_time"]/@content')],
            meta.date,
        ),
        "modified_at": _iso(info.modified)
        or _iso(_first(tree, '//meta[@property="article:modified_time"]/@content')),
        "language": info.language or _first(tree, "/html/@lang"),
        "site_name": meta.sitename or None,
        "description": meta.description or None,
        "tags": tuple(dict.fromkeys(_split_list(meta.tags, _TAG_SPLIT)
                                    + _split_list(meta.categories, _TAG_SPLIT)))
        or info.keywords,
        "image_url": meta.image or None,
    }


def _prepare(tree: HtmlElement, opts: ExtractOptions) -> None:
    prune_tree(tree, opts.drop_xpaths, opts.drop_css)
    unwrap_layout_tables(tree)


def _body_lines(tree: HtmlElement, url: str, opts: ExtractOptions, precision: bool) -> list[str]:
    """trafilatura's text of the pruned tree, as non-empty lines."""
    _prepare(tree, opts)
    doc = _trafilatura_doc(tree, url, precision=precision)
    return [line for line in str(doc.text or "").splitlines() if line.strip()] if doc else []


def _usable(lines: list[str], opts: ExtractOptions) -> bool:
    return words(" ".join(lines)) >= max(opts.min_words, _RETRY_WORDS) and any(
        words(line) >= _MIN_PARAGRAPH_WORDS for line in lines
    )


def _extract(html: str | bytes, url: str, opts: ExtractOptions) -> Article:
    from pipeline.decode import decode_html

    if isinstance(html, bytes):
        html = decode_html(html)
    html = html.replace("\x00", "")
    if not html.strip():
        raise NotAnArticle("empty page")
    tree = _parse(html)
    info = read_structured(tree)
    article_markup, listing, login = _page_signals(tree, url, info)
    fields = _page_fields(tree, url, info)
    boxes = [] if article_markup else _teaser_boxes(tree)
    ctx = LineContext(
        title=fields["title"],
        authors=fields["authors"],
        links=link_texts(tree),
        drop_lines=opts.drop_lines,
        structured_body=info.body,
        template=opts.template_lines,
    )
    raw = _body_lines(tree, url, opts, precision=True)
    lines = clean_lines(raw, ctx)
    if not _usable(lines, opts):
        # precision mode sometimes keeps only a paywall or a notice: try its balanced mode once
        # (trafilatura changes the tree it is given, so parse again)
        raw_again = _body_lines(_parse(html), url, opts, precision=False)
        lines_again = clean_lines(raw_again, ctx)
        if words(" ".join(lines_again)) > words(" ".join(lines)):
            raw, lines = raw_again, lines_again
    if not article_markup and not listing:
        link_words = sum(words(line) for line in raw if is_link_line(line, ctx.links))
        # mostly headlines: an index page
        listing = link_words > _MAX_LINK_SHARE * max(1, sum(words(line) for line in raw))
    paras = paragraphs(lines)
    text = "\n\n".join(paras)
    if _in_teasers(paras, boxes):
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
    return Article(url=url, text=text, **fields)


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
