"""Incidents: the environment whose alerts join the timeline, and alert groups tied by hand.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("environment", sa.Text))
    op.create_table(
        "incident_alert_groups",
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("group_id", sa.Text, nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "group_id", name="pk_incident_alert_groups"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name="fk_incident_alert_groups_incident_id_incidents"),
    )


def downgrade() -> None:
    op.drop_table("incident_alert_groups")
    with op.batch_alter_table("incidents") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("environment")
