"""Judgements record the passages that decided their sentiment and category.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        # Judgements made before this revision have no recorded terms.
        batch_op.add_column(sa.Column("terms", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.drop_column("terms")
