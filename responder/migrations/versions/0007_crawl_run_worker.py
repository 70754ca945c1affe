"""The process writing a crawl run ("host:pid"), so a run whose process died can be closed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("worker")
