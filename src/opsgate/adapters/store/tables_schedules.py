"""Scheduler tables: the leader lease, what each scheduled check saw last, reminders."""

from __future__ import annotations

import sqlalchemy as sa

from opsgate.adapters.store.tables import UtcDateTime, metadata

# One row per lease (the scheduler's is "scheduler"). Taken or renewed by one conditional upsert:
# a row may be overwritten only by its holder or once it has expired.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Per scheduled check: the fire time handled last and the hash of the result posted last.
check_states = sa.Table(
    "check_states",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("last_fire_at", UtcDateTime, nullable=False),
    sa.Column("last_hash", sa.CHAR(64)),
    sa.Column("last_request_id", sa.Text),
    sa.Column("changed_at", UtcDateTime),
)

# Columns are named after opsgate.domain.schedule.Reminder fields.
reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("thread", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_by_name", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("cancelled_by", sa.Text),
    sa.Index(None, "state", "due_at"),  # what is due
    sa.Index(None, "created_by", "state"),  # a person's pending reminders
)
