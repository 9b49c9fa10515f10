"""URL normalisation: one article, one archive key."""

from __future__ import annotations

import pytest

from common.urls import canonical_url, host_in, prefer_canonical
from crawler.spiders.news import looks_like_article


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Example.com/a/b", "https://example.com/a/b"),
        ("https://example.com:443/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("http://example.com:80/a#comments", "http://example.com/a"),
        ("https://example.com/a?b=2&a=1&fbclid=XYZ&gclid=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com", "https://example.com/"),
        ("http://127.0.0.1:8080/x?id=5&utm_campaign=z", "http://127.0.0.1:8080/x?id=5"),
    ],
)
def test_canonical_url(url: str, key: str) -> None:
    assert canonical_url(url) == key


def test_declared_canonical_is_honoured_only_on_the_sources_domains() -> None:
    domains = ("example.com",)
    fetched = "https://www.example.com/story?utm_source=rss"
    assert prefer_canonical(fetched, "https://example.com/story", domains) == "https://example.com/story"
    assert prefer_canonical(fetched, "https://evil.test/story", domains) == "https://www.example.com/story"
    assert prefer_canonical(fetched, "javascript:alert(1)", domains) == "https://www.example.com/story"
    assert prefer_canonical(fetched, None, domains) == "https://www.example.com/story"


def test_host_in_matches_subdomains_only() -> None:
    assert host_in("news.example.com", ["example.com"])
    assert host_in("example.com", ["example.com"])
    assert not host_in("badexample.com", ["example.com"])
    assert not host_in(None, ["example.com"])


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://e.com/2026/11/29/harbour-dredging/", True),
        ("https://e.com/news/storm-warning.html", True),
        ("https://e.com/stories/1042/", True),
        ("https://e.com/politics/minister-resigns-after-vote", True),
        ("https://e.com/", False),
        ("https://e.com/tag/harbour/", False),
        ("https://e.com/category/local-news/", False),
        ("https://e.com/search/?q=harbour", False),
        ("https://e.com/login/", False),
        ("https://e.com/wp-content/uploads/2026/11/photo-of-harbour.jpg", False),
        ("https://e.com/about/empty.html", False),
    ],
)
def test_article_url_heuristic(url: str, article: bool) -> None:
    assert looks_like_article(url) is article


def test_a_canonical_on_another_subdomain_is_not_the_same_site() -> None:
    """issue 20 (1): a user page on blogs.example.com cannot name www.example.com/story."""
    domains = ("example.com",)
    fetched = "https://blogs.example.com/user/post"
    declared = "https://www.example.com/story"
    assert prefer_canonical(fetched, declared, domains) == fetched
    assert prefer_canonical("https://example.com/s?x=1", "https://www.example.com/s", domains) == (
        "https://www.example.com/s"
    )


def test_http_url_keeps_only_http_and_https() -> None:
    from common.urls import http_url

    assert http_url(" https://a.example/i.jpg ") == "https://a.example/i.jpg"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "ftp://a.example/x", "data:,x",
                "//a.example/x", "http://", "http://a.example/\x00", None, ""):
        assert http_url(bad) is None, bad
