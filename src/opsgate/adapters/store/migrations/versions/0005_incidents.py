"""Incidents: incidents, roles, timeline.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("declared_by", sa.Text, nullable=False),
        sa.Column("declared_by_name", sa.Text, nullable=False),
        sa.Column("declared_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("thread", sa.Text),
        sa.Column("room_name", sa.Text),
        sa.Column("acknowledged_at", _utc_datetime()),
        sa.Column("mitigated_at", _utc_datetime()),
        sa.Column("resolved_at", _utc_datetime()),
        sa.Column("ticket_url", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("number", name="uq_incidents_number"),
    )
    op.create_index("ix_incidents_channel_thread", "incidents", ["channel", "thread"])
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"])

    op.create_table(
        "incident_roles",
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("person_name", sa.Text, nullable=False),
        sa.Column("assigned_at", _utc_datetime(), nullable=False),
        sa.Column("assigned_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "role", name="pk_incident_roles"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_roles_incident_id_incidents"),
    )

    op.create_table(
        "incident_timeline",
        # INTEGER on SQLite: the rowid alias (64-bit there).
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("at", _utc_datetime(), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False),
        sa.Column("ref", sa.Text),
        sa.Column("dedupe", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_incident_timeline"),
        sa.UniqueConstraint("dedupe", name="uq_incident_timeline_dedupe"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_timeline_incident_id_incidents"),
    )
    op.create_index("ix_incident_timeline_incident_id_at", "incident_timeline", ["incident_id", "at"])


def downgrade() -> None:
    op.drop_table("incident_timeline")
    op.drop_table("incident_roles")
    op.drop_table("incidents")
