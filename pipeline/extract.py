"""Article extraction: the only module that imports trafilatura.

Everything else calls :func:`extract_article`; it takes raw HTML and the page URL and returns an
:class:`Article` with clean text and metadata, or raises :class:`NotAnArticle` /
:class:`ExtractionError`. Both inputs and outputs are plain, picklable values so the call can run
in a worker process.

The steps: decode bytes (:mod:`pipeline.decode`), parse, read JSON-LD/microdata
(:mod:`pipeline.structured`), prune widgets (:func:`pipeline.clean.prune_tree`), run trafilatura
once in precision mode, then filter its lines (:func:`pipeline.clean.clean_lines`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from pipeline.clean import LineContext, clean_lines, is_link_line, link_texts, prune_tree, words
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
_NOT_ARTICLE_PATH = re.compile(
    r"/(tag|tags|category|categories|topic|topics|search|login|signin|sign-in|register|"
    r"account|author|authors|archive|page)(/|$|\?)|[?&](s|q|search)=",
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
_RETRY_WORDS = 60  # an article has at least one real paragraph


def _split_list(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        items = _AUTHOR_SPLIT.split(str(value))
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def _iso(value: str | None) -> str | None:
    """The value if it is an ISO 8601 date or date-time, normalised; else None."""
    if not value:
        return None
    v = value.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(v).isoformat() if "T" in v else v[:10]
    except ValueError:
        m = re.match(r"\d{4}-\d{2}-\d{2}", v)
        return m.group(0) if m else None


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
    path = urlsplit(url).path
    listing = bool(_NOT_ARTICLE_PATH.search(url)) or path in ("", "/")
    return article_markup, listing, login


def _trafilatura_doc(tree: HtmlElement, url: str, precision: bool) -> Any:
    import trafilatura  # the one import of trafilatura in the project

    return trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        favor_precision=precision,
        with_metadata=True,
    )


def _parse(html: str) -> HtmlElement:
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None or tree.find(".//body") is None and len(tree) < 1:
        raise ExtractionError("not parsable as HTML")
    return tree


def _extract(html: str | bytes, url: str, opts: ExtractOptions) -> Article:
    from pipeline.decode import decode_html

    if isinstance(html, bytes):
        html = decode_html(html)
    html = html.replace("\x00", "")
    if not html.strip():
        raise NotAnArticle("empty page")
    tree = _parse(html)
    canonical = _first(tree, '//link[@rel="canonical"]/@href')
    info = read_structured(tree)
    article_markup, listing, login = _page_signals(tree, url, info)
    ctx_links = link_texts(tree)
    prune_tree(tree, opts.drop_xpaths, opts.drop_css)
    doc = _trafilatura_doc(tree, url, precision=True)
    if doc is None or words(doc.text or "") < _RETRY_WORDS:
        # precision mode sometimes keeps only a notice: try once in its balanced mode
        # (trafilatura changes the tree it is given, so parse again)
        tree = _parse(html)
        prune_tree(tree, opts.drop_xpaths, opts.drop_css)
        doc = _trafilatura_doc(tree, url, precision=False) or doc
    if doc is None:
        raise NotAnArticle("no article body found")
    title = (doc.title or info.headline or "").strip() or None
    authors = _split_list(doc.author) or info.authors
    ctx = LineContext(
        title=title,
        authors=authors,
        links=ctx_links,
        drop_lines=opts.drop_lines,
        structured_body=info.body,
        template=opts.template_lines,
    )
    raw = [line for line in (doc.text or "").splitlines() if line.strip()]
    link_words = sum(words(line) for line in raw if is_link_line(line, ctx_links))
    if link_words > _MAX_LINK_SHARE * max(1, sum(words(line) for line in raw)):
        listing = True  # a list of headlines: an index page
    lines = clean_lines(raw, ctx)
    text = "\n\n".join(lines)
    n_words = words(text)
    if n_words < opts.min_words:
        raise NotAnArticle(f"too little text ({n_words} words)")
    if not any(words(line) >= _MIN_PARAGRAPH_WORDS for line in lines):
        raise NotAnArticle("no paragraph of running text")
    if listing and not article_markup:
        raise NotAnArticle("the page is a listing or search page")
    if login and n_words < _LOGIN_MAX_WORDS and not article_markup:
        raise NotAnArticle("the page is a login form")
    return Article(
        url=url,
        text=text,
        title=title,
        canonical_url=urljoin(url, canonical) if canonical else None,
        authors=authors,
        published_at=_iso(info.published) or _iso(doc.date),
        modified_at=_iso(info.modified)
        or _iso(_first(tree, '//meta[@property="article:modified_time"]/@content')),
        language=doc.language or info.language or _first(tree, "/html/@lang"),
        site_name=doc.sitename or None,
        description=doc.description or None,
        tags=tuple(dict.fromkeys(_split_list(doc.tags) + _split_list(doc.categories)))
        or info.keywords,
        image_url=doc.image or None,
    )


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
