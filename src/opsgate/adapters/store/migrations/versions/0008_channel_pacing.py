"""Chat pacing shared by every sender: each channel's next free turn, and the turn an item holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_pacing",
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("next_free", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel", name="pk_channel_pacing"),
    )
    op.add_column("outbox", sa.Column("turn_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("outbox", "turn_at")
    op.drop_table("channel_pacing")
