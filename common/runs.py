"""What a run counts and how it ended: the one list of counters and the one status policy.

Every layer speaks of runs: the spider and the item pipelines count into Scrapy stats, the
archive stores the counts in ``runs``, the CLI and the daemon print them. The names are the
``runs`` table's columns, spelled once here.

Example::

    counts = counts_from_stats(crawler.stats)
    status = run_status(counts, fatal=None, reason="finished")   # "ok", "partial" or "failed"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "COUNTERS",
    "FAILED",
    "FINISHED",
    "HEARTBEAT_SECONDS",
    "LABELS",
    "OUTCOME_COUNTERS",
    "STALE_AFTER_SECONDS",
    "STAT_PREFIX",
    "SUCCESS",
    "cap_message",
    "count",
    "count_outcome",
    "counts_from_stats",
    "describe_counts",
    "run_status",
]

#: the counters of a run, as the ``runs`` table's columns and :class:`RunResult`'s fields
COUNTERS = (
    "pages_fetched",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_skipped",
    "errors",
    "urls_over_cap",
)
#: each counter's short name, as tables and log lines show it
LABELS = {
    "pages_fetched": "pages",
    "articles_new": "new",
    "articles_updated": "updated",
    "articles_unchanged": "unchanged",
    "articles_skipped": "skipped",
    "errors": "errors",
    "urls_over_cap": "over cap",
}
#: the counter of each outcome of saving an article (see storage.articles.Outcome)
OUTCOME_COUNTERS = {
    "new": "articles_new",
    "updated": "articles_updated",
    "unchanged": "articles_unchanged",
    "duplicate": "articles_skipped",
}
#: the prefix of newsvault's own Scrapy stats (``newsvault/articles_new`` ...)
STAT_PREFIX = "newsvault/"
#: statuses of a run that got going and ended (so not "running" and not "skipped")
FINISHED = ("ok", "partial", "failed", "stopped", "timed out", "interrupted")
#: statuses of a run that archived what it could
SUCCESS = ("ok", "partial")
#: a last finished run with one of these statuses makes its source unhealthy
FAILED = ("failed", "timed out", "interrupted")

#: how often a running crawl or worker refreshes its locks and its runs' ``heartbeat_at``
HEARTBEAT_SECONDS = 30.0
#: a lock, or a "running" run of another host, with no sign of life for this long is over
STALE_AFTER_SECONDS = 300.0


def count(stats: Any, name: str, n: int = 1) -> None:
    """Add ``n`` to the run's counter ``name`` (one of :data:`COUNTERS`) in Scrapy stats."""
    if name not in COUNTERS[1:]:  # pages_fetched is Scrapy's own count
        raise KeyError(f"not a run counter: {name}")
    stats.inc_value(STAT_PREFIX + name, n)


def count_outcome(stats: Any, outcome: str) -> None:
    """Count what the archive did with an article: new, updated, unchanged, or a duplicate
    (an alias of an article already stored), which counts as skipped."""
    count(stats, OUTCOME_COUNTERS[outcome])


def counts_from_stats(stats: Any) -> dict[str, int]:
    """The run's counters from Scrapy stats (pages fetched are Scrapy's response count)."""
    counts = {"pages_fetched": int(stats.get_value("downloader/response_count", 0))}
    for name in COUNTERS[1:]:
        counts[name] = int(stats.get_value(STAT_PREFIX + name, 0))
    return counts


def describe_counts(counts: Mapping[str, Any], *, nonzero: bool = False) -> str:
    """``pages 12, new 3, updated 0, ...``: a run's counters for a log line; with ``nonzero``,
    only those that are not 0 (``pages 12, new 3``). The page cap's count (``over cap``) is a
    note, shown only when the cap was reached."""
    return ", ".join(
        f"{LABELS[n]} {counts[n]}"
        for n in COUNTERS
        if counts[n] or not (nonzero or n == "urls_over_cap")
    )


def cap_message(over_cap: int) -> str | None:
    """What a run says when it stopped queueing articles at ``crawl.max_pages_per_run``
    (``over_cap``: the article URLs it found and left for the next run), or None."""
    if not over_cap:
        return None
    return (
        f"page cap reached (crawl.max_pages_per_run): {over_cap} article URLs wait for the "
        "next run"
    )


def run_status(counts: Mapping[str, int], *, fatal: str | None, reason: str) -> str:
    """How a crawl that ran ended. ``fatal``: why the archive stopped taking writes, if it did;
    ``reason``: why the spider closed (Scrapy's close reason)."""
    stored = counts["articles_new"] + counts["articles_updated"] + counts["articles_unchanged"]
    if fatal:
        return "failed"
    if reason in ("shutdown", "cancelled"):
        return "stopped"
    if counts["errors"] and not stored and not counts["articles_skipped"]:
        return "failed"
    if counts["errors"]:
        return "partial"
    return "ok"
