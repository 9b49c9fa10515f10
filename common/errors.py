"""Exceptions raised by newsvault.

The tree, one base class per failure family, so callers can catch broadly or narrowly::

    NewsvaultError
    ├── ConfigError        config.yaml is unreadable or invalid (raised by common.config)
    ├── CrawlError         a page or feed could not be fetched or parsed (crawler/)
    ├── ExtractionError    a fetched page gave no usable article (pipeline.extract)
    │   └── NotAnArticle   the page is fine but is not an article (index, tag, login, empty body)
    └── StorageError       the archive could not be opened or written (storage/)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CrawlError",
    "ExtractionError",
    "NewsvaultError",
    "NotAnArticle",
    "StorageError",
]


class NewsvaultError(Exception):
    """Base class of every error newsvault raises on purpose."""


class ConfigError(NewsvaultError):
    """Raised by ``common.config.load_config`` when the file, a key or a value is bad.

    The message names the file, the key and the problem, ready to print to a user.
    """


class CrawlError(NewsvaultError):
    """Raised by the crawler when a response cannot be used (wrong type, too large, unparsable)."""


class ExtractionError(NewsvaultError):
    """Raised by ``pipeline.extract.extract_article`` when a page cannot be extracted."""


class NotAnArticle(ExtractionError):
    """Raised by ``pipeline.extract.extract_article`` for a page that is not an article.

    Index pages, tag and search pages, login forms and pages without a body land here; they are
    counted as skipped, not as errors.
    """


class StorageError(NewsvaultError):
    """Raised by ``storage`` when the archive cannot be opened, migrated or written."""
