"""Scheduler: leases, scheduled jobs' last results, reminders.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "check_states",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("last_fire_at", _utc_datetime(), nullable=False),
        sa.Column("last_hash", sa.CHAR(64)),
        sa.Column("last_request_id", sa.Text),
        sa.Column("changed_at", _utc_datetime()),
        sa.PrimaryKeyConstraint("name", name="pk_check_states"),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("thread", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("due_at", _utc_datetime(), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_by_name", sa.Text, nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("claimed_until", _utc_datetime()),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", _utc_datetime()),
        sa.Column("cancelled_by", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
    )
    op.create_index("ix_reminders_state_due_at", "reminders", ["state", "due_at"])
    op.create_index("ix_reminders_created_by_state", "reminders", ["created_by", "state"])


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("check_states")
    op.drop_table("leases")
