"""Intake: stored raw events (SNS, SQS/EventBridge, webhooks), claimed for processing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        # INTEGER on SQLite: the rowid alias (64-bit there).
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("received_at", _utc_datetime(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("processed_at", _utc_datetime()),
        sa.Column("outcome", sa.Text),
        sa.Column("leased_until", _utc_datetime()),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("source", "external_id", name="uq_events_source_external_id"),
    )
    unprocessed = sa.text("processed_at IS NULL")
    op.create_index("ix_events_unprocessed", "events", ["id"], sqlite_where=unprocessed, postgresql_where=unprocessed)
    op.create_index("ix_events_received_at", "events", ["received_at"])


def downgrade() -> None:
    op.drop_table("events")
