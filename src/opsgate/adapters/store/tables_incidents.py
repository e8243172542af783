"""Incidents, who holds which role in them, their timelines, and the alert groups tied to them.

Columns are named after the fields of opsgate.domain.incident's Incident, RoleHolder and
TimelineEntry. A timeline row with a `dedupe` key is written once per key (the same pinned message,
the same alert), however often it is reported.
"""

from __future__ import annotations

import sqlalchemy as sa

from opsgate.adapters.store.tables import BigIntKey, UtcDateTime, metadata

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # "inc-12"
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("declared_by", sa.Text, nullable=False),
    sa.Column("declared_by_name", sa.Text, nullable=False),
    sa.Column("declared_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("room", sa.Text, nullable=False),  # channel | thread | none
    sa.Column("channel", sa.Text),
    sa.Column("thread", sa.Text),
    sa.Column("room_name", sa.Text),
    sa.Column("acknowledged_at", UtcDateTime),
    sa.Column("mitigated_at", UtcDateTime),
    sa.Column("resolved_at", UtcDateTime),
    sa.Column("ticket_url", sa.Text),
    sa.Column("environment", sa.Text),  # its alerts join the timeline while it is open
    sa.UniqueConstraint("number"),  # two declarations at once: the second takes the next number
    sa.Index(None, "channel", "thread"),  # which incident is this room's
    sa.Index(None, "status"),  # open incidents
    sa.Index(None, "declared_at"),  # the numbers by period
)

incident_roles = sa.Table(
    "incident_roles",
    metadata,
    sa.Column("incident_id", sa.Text, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("role", sa.Text, primary_key=True),  # commander | communications | operations
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Column("person_name", sa.Text, nullable=False),
    sa.Column("assigned_at", UtcDateTime, nullable=False),
    sa.Column("assigned_by", sa.Text, nullable=False),
)

incident_timeline = sa.Table(
    "incident_timeline",
    metadata,
    sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Text, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("actor_name", sa.Text, nullable=False),
    sa.Column("ref", sa.Text),
    sa.Column("dedupe", sa.Text),
    sa.UniqueConstraint("dedupe"),  # NULLs do not collide: only entries that name a key are unique
    sa.Index(None, "incident_id", "at"),
)

# Alert groups someone tied to an incident (`incident link alert=g-…`): their alerts join its timeline.
incident_alert_groups = sa.Table(
    "incident_alert_groups",
    metadata,
    sa.Column("incident_id", sa.Text, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("group_id", sa.Text, primary_key=True),
    sa.Column("linked_at", UtcDateTime, nullable=False),
    sa.Column("linked_by", sa.Text, nullable=False),  # person id
)
