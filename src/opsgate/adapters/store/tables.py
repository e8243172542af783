"""The database schema as SQLAlchemy Core tables: the one description queries are written against.

Migrations in `migrations/versions/` create exactly this schema (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Constraint names are fixed so that migrations can refer to them on every database.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored as UTC, returned as UTC on every database.

    SQLite has no time zones (it would drop the offset silently), so naive values are refused
    rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware times only")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as UTC without an offset
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class JsonText(sa.types.TypeDecorator[Any]):
    """A JSON value kept as text exactly as written (sorted keys), on every database."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


# SQLite makes only INTEGER PRIMARY KEY an alias of the rowid (no separate index, faster appends);
# it is 64-bit there, so it is the same range as BIGINT elsewhere.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

requests = sa.Table(
    "requests",
    metadata,
    # Columns are named after opsgate.domain.request.RequestRecord fields (a test checks this).
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("params", JsonText, nullable=False),
    sa.Column("environment", sa.Text),
    sa.Column("requester_id", sa.Text, nullable=False),
    sa.Column("requester_name", sa.Text, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("binding", sa.CHAR(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("link", sa.Text),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("break_glass_reason", sa.Text),
    sa.Column("confirm_text", sa.Text),
    sa.Column("approvals_required", sa.Integer, nullable=False),
    sa.Column("approver_roles", sa.JSON, nullable=False),
    sa.Column("expires_at", UtcDateTime),
    sa.Column("decision_rule", sa.Text, nullable=False),
    sa.Column("thread", sa.Text),
    sa.Column("result", JsonText, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index(None, "requester_id", "command", "created_at"),  # rate limits: count_requests
    sa.Index(None, "state"),  # pending lists, expiry sweeps
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("request_id", sa.Text, sa.ForeignKey("requests.id"), nullable=False),
    sa.Column("approver_id", sa.Text, nullable=False),
    sa.Column("approver_name", sa.Text, nullable=False),
    sa.Column("binding", sa.CHAR(64), nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("request_id", "approver_id"),  # one approval per person and request
)

# Append-only (triggers refuse UPDATE and DELETE). `body` is the canonical JSON exactly as hashed;
# the other columns copy fields of it for filtering and must agree with it.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", BigIntKey, primary_key=True, autoincrement=False),
    sa.Column("ts", sa.Text, nullable=False),  # audit.format_ts: fixed width, sorts as time does
    sa.Column("request_id", sa.Text),
    sa.Column("actor_id", sa.Text),
    sa.Column("command", sa.Text),
    sa.Column("environment", sa.Text),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.CHAR(64), nullable=False),
    sa.Index(None, "ts"),
    sa.Index(None, "request_id"),
    sa.Index(None, "actor_id"),
)

# One row: the last appended record. Appends lock it, so the chain stays one line across replicas;
# verification compares it with the log's last row, so a removed tail is detected.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.CHAR(64), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)
AUDIT_HEAD_ID = 1

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("environment", sa.Text, primary_key=True),
    sa.Column("holder_id", sa.Text, nullable=False),
    sa.Column("holder_name", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("taken_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Idempotency keys of everything that came in (Slack retries, double clicks, scheduled runs).
inbound = sa.Table(
    "inbound",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("reply", sa.Text),
    sa.Column("request_id", sa.Text),
)

# Chat messages waiting to be sent (a durable outbox). A row is deleted once sent; `dead` rows
# could never be sent and are kept for operators. Items of one (platform, order_key) are sent in
# id order; `leased_until` keeps a claimed item from other senders while it is in flight.
OUTBOX_PENDING = "pending"
OUTBOX_DEAD = "dead"

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("order_key", sa.Text, nullable=False),
    sa.Column("payload", JsonText, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("leased_until", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("turn_at", UtcDateTime),  # the channel turn this item was held back for (pacing)
    sa.Index(None, "platform", "state", "due_at"),  # what is due
    sa.Index(None, "platform", "order_key", "state"),  # is an earlier item of the same key waiting?
)

# Pacing shared by every sender (replicas, workers): a channel's next free turn (GCRA's
# theoretical arrival time). Read and moved under a row lock, in the transaction that decides.
channel_pacing = sa.Table(
    "channel_pacing",
    metadata,
    sa.Column("platform", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("next_free", UtcDateTime, nullable=False),
)

# The chat message that shows one request (updated in place as the request moves).
message_refs = sa.Table(
    "message_refs",
    metadata,
    sa.Column("platform", sa.Text, primary_key=True),
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("ts", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
