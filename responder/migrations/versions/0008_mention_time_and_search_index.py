"""Reading at a million mentions: an index on the time a mention counts at (published, else
collected), which the dashboard and the mentions list narrow and order by; and the search
index of character pairs (responder/intake/search.py), filled from the stored mentions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 16:20:00
"""

import sqlalchemy as sa
from alembic import op

from responder.intake import search

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_mentions_time", "mentions", [sa.text("coalesce(published_at, fetched_at)")])
    connection = op.get_bind()
    search.create(connection)
    # About a minute and a half per million mentions; progress goes to the log.
    search.backfill(connection)


def downgrade() -> None:
    search.drop(op.get_bind())
    op.drop_index("ix_mentions_time", table_name="mentions")
