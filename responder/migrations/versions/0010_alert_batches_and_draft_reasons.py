"""Duty alerts delivered together or in a digest (which message carried each notice), mail
threads, and why a reply draft exists.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        # Notices made before this revision were each sent as a message of their own.
        batch_op.add_column(
            sa.Column("delivery", sa.String(length=12), nullable=False, server_default="own")
        )
        batch_op.add_column(sa.Column("carried_by", sa.String(length=300), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread", sa.String(length=200), nullable=True))
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason", sa.String(length=20), nullable=False, server_default="level")
        )


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("thread")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("carried_by")
        batch_op.drop_column("delivery")
