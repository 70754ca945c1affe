"""Reprint groups (mentions.reprint_of, mentions.minhash), items found per crawl run, and
the pages crawls fetched without storing (seen_pages).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.String(length=700), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("canonical_url"),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reprint_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minhash", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mentions_reprint_of"), ["reprint_of"], unique=False)
        batch_op.create_foreign_key(
            "fk_mentions_reprint_of_mentions", "mentions", ["reprint_of"], ["id"]
        )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        # Runs before this revision found what they fetched, as far as anyone can tell.
        batch_op.add_column(sa.Column("found", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("found")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_mentions_reprint_of_mentions", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mentions_reprint_of"))
        batch_op.drop_column("minhash")
        batch_op.drop_column("reprint_of")
    op.drop_table("seen_pages")
