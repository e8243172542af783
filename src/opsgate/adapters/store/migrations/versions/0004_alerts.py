"""Notifications: alert groups and their alerts, acknowledgements, silences, deployment summaries, counters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("incarnation", sa.Integer, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("next_flush_at", _utc_datetime(), nullable=False),
        sa.Column("notified_firing", sa.Text),
        sa.Column("last_notified_at", _utc_datetime()),
        sa.Column("ended_at", _utc_datetime()),
        sa.PrimaryKeyConstraint("id", name="pk_alert_groups"),
        sa.UniqueConstraint("route", "channel", "group_key", "incarnation",
                            name="uq_alert_groups_route_channel_group_key_incarnation"),
    )
    op.create_index("ix_alert_groups_ended_at_next_flush_at", "alert_groups", ["ended_at", "next_flush_at"])

    op.create_table(
        "group_alerts",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("group_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("occurred_at", _utc_datetime(), nullable=False),
        sa.Column("joined_at", _utc_datetime(), nullable=False),
        sa.Column("fired_at", _utc_datetime()),
        sa.Column("left_at", _utc_datetime()),
        sa.Column("acked_at", _utc_datetime()),
        sa.Column("acked_by", sa.Text),
        sa.Column("acked_by_name", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_group_alerts"),
        sa.ForeignKeyConstraint(["group_id"], ["alert_groups.id"], name="fk_group_alerts_group_id_alert_groups"),
        sa.UniqueConstraint("group_id", "key", name="uq_group_alerts_group_id_key"),
    )
    op.create_index("ix_group_alerts_key_occurred_at", "group_alerts", ["key", "occurred_at"])

    op.create_table(
        "alert_acks",
        # INTEGER on SQLite: the rowid alias (64-bit there).
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Text, nullable=False),
        sa.Column("alert_key", sa.Text, nullable=False),
        sa.Column("fired_at", _utc_datetime(), nullable=False),
        sa.Column("acked_at", _utc_datetime(), nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_acks"),
    )
    op.create_index("ix_alert_acks_acked_at", "alert_acks", ["acked_at"])

    op.create_table(
        "silences",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_by_name", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("expires_at", _utc_datetime(), nullable=False),
        sa.Column("ended_at", _utc_datetime()),
        sa.Column("ended_by", sa.Text),
        sa.Column("silenced", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_expires_at", "silences", ["expires_at"])

    op.create_table(
        "deployments",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("started_at", _utc_datetime()),
        sa.Column("finished_at", _utc_datetime()),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("key", "channel", name="uq_deployments_key_channel"),
    )
    op.create_index("ix_deployments_finished_at", "deployments", ["finished_at"])

    op.create_table(
        "notification_counters",
        sa.Column("hour", _utc_datetime(), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("hour", "name", name="pk_notification_counters"),
    )


def downgrade() -> None:
    for table in ("notification_counters", "deployments", "silences", "alert_acks", "group_alerts", "alert_groups"):
        op.drop_table(table)
