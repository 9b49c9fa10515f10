"""the archive as a plain SQLite file other tools read (Datasette, sqlite-utils)

SQLite only. Datasette finds a table's full-text index by ``content="articles"`` (double quotes or
brackets) in the FTS5 table's SQL; 0003 wrote ``content='articles'``. The FTS5 table is made
again with double quotes, its triggers with it, and rebuilt from ``articles``. Lists (authors,
tags) were written as JSON with non-ASCII characters escaped (``"Jos\\u00e9"``); they are
rewritten as plain UTF-8 JSON, as the engine now writes them (storage.db).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROP = (
    "DROP TRIGGER IF EXISTS articles_fts_au",
    "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_ai",
    "DROP TABLE IF EXISTS articles_fts",
)


def _create(quote: str) -> tuple[str, ...]:
    q = quote
    return (
        f"""CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, content={q}articles{q}, content_rowid={q}id{q},
        tokenize='porter unicode61 remove_diacritics 2')""",
        """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
        """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
        """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
        "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
    )


def _unescape_lists(escaped: bool) -> None:
    """Rewrite the JSON lists that hold a non-ASCII escape (or, downgrading, a non-ASCII
    character) in the other form; the values are unchanged."""
    bind = op.get_bind()
    for table in ("articles", "revisions"):
        for column in ("authors", "tags"):
            pattern = "%\\u%" if not escaped else "%"
            rows = bind.execute(
                sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE :p"), {"p": pattern}
            ).fetchall()
            for row_id, value in rows:
                if value is None:
                    continue
                new = json.dumps(json.loads(value), ensure_ascii=escaped)
                if new != value:
                    bind.execute(
                        sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                        {"v": new, "id": row_id},
                    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in (*_DROP, *_create('"')):
        op.execute(sql)
    _unescape_lists(escaped=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in (*_DROP, *_create("'")):
        op.execute(sql)
    _unescape_lists(escaped=True)
