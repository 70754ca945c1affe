"""Hot-list sightings (rank and heat of a relevant entry each time a board is read) and the
last text of each watched page, for the `hotlist` and `watch` source kinds.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hot_ranks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("board", sa.String(40), nullable=False),
        sa.Column("canonical_url", sa.String(700), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("heat", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_hot_ranks_canonical_url", "hot_ranks", ["canonical_url"])
    op.create_table(
        "watched_pages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("canonical_url", sa.String(700), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watched_pages")
    op.drop_index("ix_hot_ranks_canonical_url", table_name="hot_ranks")
    op.drop_table("hot_ranks")
