"""newsvault's fetching side: Scrapy spiders, items, settings and middlewares.

Spiders only fetch and follow links; they never parse articles. They yield
:class:`crawler.items.ArticleItem` for every article page and :class:`crawler.items.FailureItem`
for every URL that could not be fetched.
"""

__all__: list[str] = []
