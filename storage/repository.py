"""The archive's read/write API, put together from its parts, one module a job:

- :mod:`storage.base`: the engine, opening and migrating, the one retried write transaction;
- :mod:`storage.articles`: the article write policy (new, revision, unchanged, alias), 304s;
- :mod:`storage.runlog`: runs and per-source locks;
- :mod:`storage.failures`: failures and back-off;
- :mod:`storage.incremental`: the fetch state handed to a crawl, and taken back;
- :mod:`storage.reading`: reading articles and their history.

Only storage/ opens sessions or writes SQL. Readers stream in batches and never hold a write
lock, so an export or a search never blocks a running crawl.

Example::

    archive = Archive.open("sqlite:///newsvault.db")
    run_id = archive.start_run("example-news")
    outcome = archive.save_article(run_id, record, fetch)
    archive.finish_run(run_id, "ok", {"articles_new": 1})
"""

from __future__ import annotations

from storage.articles import ArticleStore, Outcome
from storage.failures import BACKOFF_BASE, BACKOFF_MAX, FailureStore
from storage.incremental import FetchStateStore
from storage.reading import ArchiveReader
from storage.records import ArticleRecord, FetchRecord
from storage.runlog import RunStore

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "Archive",
    "ArticleRecord",
    "FetchRecord",
    "Outcome",
]


class Archive(ArticleStore, RunStore, FailureStore, FetchStateStore, ArchiveReader):
    """Read and write access to one archive database (see the module doc for its parts)."""
