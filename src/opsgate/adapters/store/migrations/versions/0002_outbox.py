"""Chat outbox and message refs: durable delivery of chat messages, in-place updates by request.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        # INTEGER on SQLite: the rowid alias (64-bit there).
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("order_key", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("due_at", _utc_datetime(), nullable=False),
        sa.Column("leased_until", _utc_datetime()),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_platform_state_due_at", "outbox", ["platform", "state", "due_at"])
    op.create_index("ix_outbox_platform_order_key_state", "outbox", ["platform", "order_key", "state"])

    op.create_table(
        "message_refs",
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("ts", sa.Text, nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "request_id", name="pk_message_refs"),
    )


def downgrade() -> None:
    op.drop_table("message_refs")
    op.drop_table("outbox")
