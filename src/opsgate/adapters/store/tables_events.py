"""Received events (SNS, SQS/EventBridge, webhooks), stored raw before anything interprets them.

A row is written once per (source, external_id) — the sender's own id (SNS MessageId, EventBridge
event id, webhook delivery id) — so a retried delivery is stored once. Processing claims rows with
a lease (`leased_until`) and marks them processed; processed rows are kept for statistics.
"""

from __future__ import annotations

import sqlalchemy as sa

from opsgate.adapters.store.tables import BigIntKey, JsonText, UtcDateTime, metadata

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),  # "sns", "eventbridge", "sqs", "webhook:<name>"
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("body", JsonText, nullable=False),
    sa.Column("processed_at", UtcDateTime),
    sa.Column("outcome", sa.Text),
    sa.Column("leased_until", UtcDateTime),
    sa.UniqueConstraint("source", "external_id"),  # one row per delivery, however often it is retried
    # Only unprocessed rows, in arrival order: stays small while processed rows pile up for stats.
    sa.Index(
        "ix_events_unprocessed", "id",
        sqlite_where=sa.text("processed_at IS NULL"), postgresql_where=sa.text("processed_at IS NULL"),
    ),
    sa.Index(None, "received_at"),  # statistics by period
)
