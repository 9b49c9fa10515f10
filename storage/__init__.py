"""newsvault's archive: SQLAlchemy models, engine set-up and migrations, and the read/write API.

``storage.repository`` is the only module with sessions or SQL; the rest of the code calls it.
"""

from storage.db import open_engine
from storage.repository import Archive, ArticleRecord, FetchRecord, Outcome

__all__ = ["Archive", "ArticleRecord", "FetchRecord", "Outcome", "open_engine"]
