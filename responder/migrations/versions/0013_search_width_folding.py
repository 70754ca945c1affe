"""The search index folds width as well as case ("：" and ":" are one character to a search):
rebuilt from the stored mentions, as 0008 built it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:20:00
"""

from alembic import op

from responder.intake import search

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    search.drop(connection)
    search.create(connection)
    search.backfill(connection)


def downgrade() -> None:
    # The folded index answers every search the old one did, and more; nothing to undo.
    pass
