"""newsvault's archive: SQLAlchemy models, engine set-up and migrations, and the read/write API.

Only storage/ opens sessions or writes SQL; the API is split by job (see
:mod:`storage.repository`) and put together as :class:`Archive`. It imports nothing of ours but
the leaf package ``common``.
"""

from storage.db import open_engine
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome

__all__ = ["Archive", "ArticleRecord", "FetchRecord", "Outcome", "open_engine"]
