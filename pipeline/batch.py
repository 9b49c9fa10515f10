"""Batched archive writes for the Store pipeline.

:class:`BatchWriter` collects articles and writes them with
:meth:`~storage.repository.Archive.save_articles`, many per short transaction, which costs far
less than one transaction per article. A batch commit is all or nothing; when it fails, every
article of the batch is written again on its own, so one bad article never costs the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from common.errors import StorageError

__all__ = ["BatchWriter"]

# Called for each article written: its outcome.
OnOutcome = Callable[[Any], None]
# Called for an article that could not be written even alone: (record, fetch, error). It returns
# False when writing must stop (the archive itself is unusable): the rest are then not attempted.
OnError = Callable[[Any, Any, StorageError], bool]


class BatchWriter:
    """Writes (ArticleRecord, FetchRecord) pairs to ``archive`` in batches of up to ``size``.

    :meth:`add` flushes when the batch is full; the owner calls :meth:`flush` on a timer and at
    the end (:meth:`due` says whether the oldest pending article has waited ``max_age`` seconds).
    """

    def __init__(
        self,
        archive: Any,
        run_id: int | None,
        *,
        size: int,
        max_age: float,
        on_outcome: OnOutcome,
        on_error: OnError,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.archive = archive
        self.run_id = run_id
        self.size = max(1, size)
        self.max_age = max_age
        self.on_outcome = on_outcome
        self.on_error = on_error
        self.clock = clock
        self.pending: list[tuple[Any, Any]] = []
        self._since = 0.0

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, record: Any, fetch: Any) -> None:
        if not self.pending:
            self._since = self.clock()
        self.pending.append((record, fetch))
        if len(self.pending) >= self.size:
            self.flush()

    def due(self) -> bool:
        return bool(self.pending) and self.clock() - self._since >= self.max_age

    def flush(self) -> None:
        """Write everything pending. Never raises StorageError: failures go to ``on_error``."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            outcomes = self.archive.save_articles(self.run_id, batch)
        except StorageError:
            self._one_by_one(batch)
            return
        for outcome in outcomes:
            self.on_outcome(outcome)

    def _one_by_one(self, batch: list[tuple[Any, Any]]) -> None:
        for record, fetch in batch:
            try:
                outcome = self.archive.save_article(self.run_id, record, fetch)
            except StorageError as exc:
                if not self.on_error(record, fetch, exc):
                    return
                continue
            self.on_outcome(outcome)
