"""Event grouping: an incident's event profile, and why each mention joined its incident.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        # Incidents opened before this revision get a profile as their next mentions join.
        batch_op.add_column(sa.Column("profile", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("join_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("join_reason")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("profile")
