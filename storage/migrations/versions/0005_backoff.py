"""backoff: URLs not to fetch again before a time (HTTP 429/503 Retry-After)

Revision ID: 0005
Revises: 0001
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backoff",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )
    with op.batch_alter_table("backoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backoff_source"), ["source"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("backoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backoff_source"))
    op.drop_table("backoff")
