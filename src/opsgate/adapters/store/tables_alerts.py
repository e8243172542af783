"""Notification state: alert groups and their alerts, acknowledgements, silences, deployment
summaries and hourly counters.

A group row lives while its chat message does (`ended_at` set when it ends; kept for pages and
statistics). An alert row belongs to one group; an alert that was shown resolved leaves the group
(`left_at`) and, if it fires again while the group lasts, comes back in the same row.
"""

from __future__ import annotations

import sqlalchemy as sa

from opsgate.adapters.store.tables import BigIntKey, JsonText, UtcDateTime, metadata

alert_groups = sa.Table(
    "alert_groups",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # g-…
    sa.Column("route", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("incarnation", sa.Integer, nullable=False),
    sa.Column("labels", JsonText, nullable=False),  # [[name, value], ...]
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("next_flush_at", UtcDateTime, nullable=False),
    sa.Column("notified_firing", JsonText),  # alert keys firing at the last message; NULL: no message yet
    sa.Column("last_notified_at", UtcDateTime),
    sa.Column("ended_at", UtcDateTime),
    sa.UniqueConstraint("route", "channel", "group_key", "incarnation"),
    sa.Index(None, "ended_at", "next_flush_at"),  # open groups that are due
)

group_alerts = sa.Table(
    "group_alerts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # a-…
    sa.Column("group_id", sa.Text, sa.ForeignKey("alert_groups.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("body", JsonText, nullable=False),  # the Alert
    sa.Column("occurred_at", UtcDateTime, nullable=False),  # of its latest state: older deliveries are stale
    sa.Column("joined_at", UtcDateTime, nullable=False),
    sa.Column("fired_at", UtcDateTime),
    sa.Column("left_at", UtcDateTime),
    sa.Column("acked_at", UtcDateTime),
    sa.Column("acked_by", sa.Text),
    sa.Column("acked_by_name", sa.Text),
    sa.UniqueConstraint("group_id", "key"),
    sa.Index(None, "key", "occurred_at"),  # which open group holds an alert; its latest state
)

# One row per alert acknowledged: time to acknowledge, by period.
alert_acks = sa.Table(
    "alert_acks",
    metadata,
    sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("group_id", sa.Text, nullable=False),
    sa.Column("alert_key", sa.Text, nullable=False),
    sa.Column("fired_at", UtcDateTime, nullable=False),
    sa.Column("acked_at", UtcDateTime, nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Index(None, "acked_at"),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # s-…
    sa.Column("matchers", JsonText, nullable=False),  # ["alarm=api-*", ...]
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_by_name", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("ended_by", sa.Text),
    sa.Column("silenced", sa.Integer, nullable=False),
    sa.Index(None, "expires_at"),
)

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # d-…
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("route", sa.Text, nullable=False),
    sa.Column("started_at", UtcDateTime),  # from the event, or when opsgate first heard of it
    sa.Column("finished_at", UtcDateTime),  # NULL: still running
    sa.Column("body", JsonText, nullable=False),  # the latest DeploymentEvent
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("key", "channel"),
    sa.Index(None, "finished_at"),
)

# Hourly totals: events processed, alerts, generic events, errors, silenced, messages queued.
notification_counters = sa.Table(
    "notification_counters",
    metadata,
    sa.Column("hour", UtcDateTime, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
