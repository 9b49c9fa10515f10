"""newsvault's fetching side: Scrapy spiders, items, settings and middlewares.

Spiders only fetch and follow links; they never parse articles. They yield
:class:`crawler.items.ArticleItem` for every article page and :class:`crawler.items.FailureItem`
for every URL that could not be fetched. They never open the archive: what they need of it
(validators, lastmods) is handed in by the crawl orchestration, which saves what they hand back.
Imports nothing of ours but the leaf package ``common``.
"""

__all__: list[str] = []
