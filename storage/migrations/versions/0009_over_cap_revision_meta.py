"""runs.urls_over_cap: article URLs a run found but left for the next one (the page cap);
revisions.language and revisions.site_name: a revision records every column an extraction fills

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urls_over_cap", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("site_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_column("site_name")
        batch_op.drop_column("language")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("urls_over_cap")
