"""newsvault's archive: SQLAlchemy models, engine set-up and migrations, and the read/write API.

Only storage/ opens sessions or writes SQL; the API is split by job (see
:mod:`storage.repository`) and put together as :class:`Archive`. It imports nothing of ours but
the leaf package ``common``.

The names below are imported on first use, so that a module that needs only a pure helper
(an extraction worker's :mod:`storage.bodies`) does not import SQLAlchemy with the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.db import open_engine
    from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome

__all__ = ["Archive", "ArticleRecord", "FetchRecord", "Outcome", "open_engine"]


def __getattr__(name: str) -> Any:
    if name == "open_engine":
        from storage import db

        return db.open_engine
    if name in __all__:
        from storage import repository

        return getattr(repository, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
