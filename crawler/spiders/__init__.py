"""Spiders: :class:`crawler.spiders.news.NewsSpider` crawls one configured source."""

from crawler.spiders.news import NewsSpider

__all__ = ["NewsSpider"]
