"""articles: markdown and paywalled; fetches: the rendered DOM of a page (render: auto|always)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMNs: a batch (copy-and-move) rebuild of ``articles`` on SQLite would drop
    # the full-text search triggers of 0003
    op.add_column("articles", sa.Column("markdown", sa.Text(), nullable=True))
    op.add_column(
        "articles",
        sa.Column("paywalled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    with op.batch_alter_table("fetches", schema=None) as batch_op:  # no triggers on fetches
        batch_op.add_column(sa.Column("rendered_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            "fk_fetches_rendered_sha256_bodies", "bodies", ["rendered_sha256"], ["sha256"]
        )


def downgrade() -> None:
    with op.batch_alter_table("fetches", schema=None) as batch_op:
        batch_op.drop_constraint("fk_fetches_rendered_sha256_bodies", type_="foreignkey")
        batch_op.drop_column("rendered_sha256")
    op.drop_column("articles", "paywalled")
    op.drop_column("articles", "markdown")
