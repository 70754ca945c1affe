"""Incident fact sheets: report fields people confirm, a person's title, the changes a notice
carries, and an incident's tasks.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("unreported", sa.Boolean(), nullable=False, server_default="1"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "field"),
    )
    op.create_index("ix_incident_facts_incident_id", "incident_facts", ["incident_id"])
    op.create_table(
        "incident_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=False),
        sa.Column("due", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_tasks_incident_id", "incident_tasks", ["incident_id"])
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("facts_pending", sa.Boolean(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("changes")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("facts_pending")
        batch_op.drop_column("title_by")
    op.drop_index("ix_incident_tasks_incident_id", table_name="incident_tasks")
    op.drop_table("incident_tasks")
    op.drop_index("ix_incident_facts_incident_id", table_name="incident_facts")
    op.drop_table("incident_facts")
