"""Judgements the machine was unsure of (the top two sentiments too close to call), which go
to the duty officer's 待研判 list.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy: SQLite adds a column with a constant default in
    # place, and a batch would reflect the mentions table's expression index (unsupported).
    op.add_column(
        "judgements", sa.Column("unsure", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("judgements", "unsure")
