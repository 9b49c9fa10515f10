"""The one mapping from an extracted :class:`~pipeline.extract.Article` to the
:class:`~storage.records.ArticleRecord` the archive stores, used by the crawl's store pipeline and
by re-extraction alike.

Example::

    record = article_record("example-news", key, extract_article(html, url))
"""

from __future__ import annotations

from common.fingerprint import text_hashes
from common.text import one_line
from common.urls import http_url
from pipeline.extract import Article
from storage.records import ArticleRecord

__all__ = ["article_record"]


def article_record(
    source: str, key: str, article: Article, hashes: tuple[str, int | None] | None = None
) -> ArticleRecord:
    """``article`` of ``source`` as stored under its archive key ``key`` (its canonical URL).

    ``hashes``: the text's (fingerprint, simhash) when already computed (the extraction worker
    computes them); else they are computed here (:func:`common.fingerprint.text_hashes`)."""
    fingerprint, simhash = hashes if hashes is not None else text_hashes(article.text)
    return ArticleRecord(
        source=source,
        url=key,
        text=article.text,
        text_hash=fingerprint,
        title=one_line(article.title) if article.title is not None else None,
        authors=tuple(a for a in (one_line(a) for a in article.authors) if a),
        published_at=article.published_at,
        modified_at=article.modified_at,
        language=article.language,
        site_name=article.site_name,
        description=article.description,
        tags=tuple(article.tags),
        image_url=http_url(article.image_url),
        simhash=simhash,
        markdown=article.markdown,
        paywalled=article.paywalled,
    )
