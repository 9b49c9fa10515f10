"""incremental archiving: revisions, aliases, validators, simhash and validator columns

Existing archives get revision 1 of every article (its current text, seen when it last changed)
and a simhash of every article's text, so near-duplicate detection covers what is already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 20:15:00
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BANDS = ("sim_b0", "sim_b1", "sim_b2", "sim_b3")

# -- the simhash as this migration computes it, frozen: a migration never imports live code,
# -- so what it writes does not change when common/fingerprint.py does. tests/test_migrations.py
# -- checks that it still equals the live one; when the live one changes on purpose, stored
# -- simhashes need a new migration that recomputes them.
_NUM = r"(?:\d+(?:[.,]\d+)*\s*[kKmM]?|a|an|one|a\s+few)"
_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?)"
_RELATIVE = re.compile(
    rf"\b(?:(?:updated|posted|published|edited)\s+)?{_NUM}\s+{_UNIT}\s+ago\b"
    r"|\b(?:(?:updated|posted|published|edited)\s+)?just\s+now\b",
    re.IGNORECASE,
)
_COUNTER = re.compile(
    r"\b\d+(?:[.,]\d+)*\s*[kKmM]?\s+(?:comments?|shares?|likes?|views?|reads?|reactions?"
    r"|replies|reply|votes?|retweets?|reposts?)\b",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MIN_WORDS = 40


def simhash_0002(text: str) -> int | None:
    """64-bit simhash (signed) of the word 3-shingles of the normalised text; None under 40
    words. Bit k is set when more than half of the shingles' blake2b-64 hashes have it set."""
    norm = _NON_WORD.sub(" ", _COUNTER.sub(" ", _RELATIVE.sub(" ", text)).casefold()).strip()
    words = norm.split()
    if len(words) < _MIN_WORDS:
        return None
    shingles = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    counts = [0] * 64
    for shingle in shingles:
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for k in range(64):
            counts[k] += h >> k & 1
    value = sum(1 << k for k in range(64) if counts[k] * 2 > len(shingles))
    return value - (1 << 64) if value >= 1 << 63 else value


def bands_0002(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of a simhash, low to high."""
    u = value & ((1 << 64) - 1)
    return (u & 0xFFFF, u >> 16 & 0xFFFF, u >> 32 & 0xFFFF, u >> 48 & 0xFFFF)


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision_count", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("simhash", sa.BigInteger(), nullable=True))
        for band in _BANDS:
            batch_op.add_column(sa.Column(band, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("etag", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("last_modified", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("listed_lastmod", sa.String(length=40), nullable=True))
        for band in _BANDS:
            batch_op.create_index(f"ix_articles_source_{band}", ["source", band], unique=False)

    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.String(length=40), nullable=True),
        sa.Column("modified_at", sa.String(length=40), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["body_sha256"], ["bodies.sha256"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "number", name="uq_revisions_article_number"),
    )
    op.create_table(
        "aliases",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("url"),
    )
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aliases_article_id"), ["article_id"], unique=False)
    op.create_table(
        "validators",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )
    with op.batch_alter_table("validators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validators_source"), ["source"], unique=False)

    op.execute(
        "INSERT INTO revisions (article_id, number, seen_at, title, text, text_hash,"
        " body_sha256, authors, published_at, modified_at, description, tags, image_url)"
        " SELECT id, 1, last_changed_at, title, text, text_hash, body_sha256, authors,"
        " published_at, modified_at, description, tags, image_url FROM articles"
    )
    _backfill_simhash()


def _backfill_simhash() -> None:
    conn = op.get_bind()
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer()),
        sa.column("text", sa.Text()),
        sa.column("simhash", sa.BigInteger()),
        *(sa.column(b, sa.Integer()) for b in _BANDS),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(articles.c.id, articles.c.text)
            .where(articles.c.id > last)
            .order_by(articles.c.id)
            .limit(500)
        ).all()
        if not rows:
            return
        for art_id, text in rows:
            value = simhash_0002(text or "")
            if value is not None:
                bands = dict(zip(_BANDS, bands_0002(value), strict=True))
                conn.execute(
                    sa.update(articles)
                    .where(articles.c.id == art_id)
                    .values(simhash=value, **bands)
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("validators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validators_source"))
    op.drop_table("validators")
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aliases_article_id"))
    op.drop_table("aliases")
    op.drop_table("revisions")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        for band in _BANDS:
            batch_op.drop_index(f"ix_articles_source_{band}")
        for name in ("listed_lastmod", "last_modified", "etag", *_BANDS, "simhash"):
            batch_op.drop_column(name)
        batch_op.drop_column("revision_count")
