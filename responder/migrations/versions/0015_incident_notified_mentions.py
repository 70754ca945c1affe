"""How many mentions an incident had when the duty officer was last alerted, so a jump in
spread since then can alert again (`alerts.spread_factor`, `alerts.spread_min_new`).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        # Incidents alerted before this revision start counting at their next alert.
        batch_op.add_column(sa.Column("notified_mentions", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("notified_mentions")
