"""The per-page trail: a set-aside page's URL and title, pages with no text recorded too, and
an index for a source's most recent set-aside pages (the source's page in the web UI).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
    op.create_index("ix_seen_pages_source_seen", "seen_pages", ["source_id", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_pages_source_seen", table_name="seen_pages")
    with op.batch_alter_table("seen_pages", schema=None) as batch_op:
        batch_op.drop_column("title")
        batch_op.drop_column("url")
