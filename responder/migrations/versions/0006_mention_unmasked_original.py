"""The unmasked title and text of a mention, kept only when `privacy.keep_original` is on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("original_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("original_text")
        batch_op.drop_column("original_title")
