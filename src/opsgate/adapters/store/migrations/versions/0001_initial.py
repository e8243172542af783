"""Initial schema: requests, approvals, the append-only audit log and its head, locks, inbound keys.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64  # opsgate.domain.audit.GENESIS_HASH, frozen as of this revision
APPEND_ONLY = "audit_log is append-only"


def _utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("environment", sa.Text),
        sa.Column("requester_id", sa.Text, nullable=False),
        sa.Column("requester_name", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("binding", sa.CHAR(64), nullable=False),
        sa.Column("created_at", _utc_datetime(), nullable=False),
        sa.Column("updated_at", _utc_datetime(), nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("break_glass_reason", sa.Text),
        sa.Column("confirm_text", sa.Text),
        sa.Column("approvals_required", sa.Integer, nullable=False),
        sa.Column("approver_roles", sa.JSON, nullable=False),
        sa.Column("expires_at", _utc_datetime()),
        sa.Column("decision_rule", sa.Text, nullable=False),
        sa.Column("thread", sa.Text),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
    )
    op.create_index(
        "ix_requests_requester_id_command_created_at", "requests", ["requester_id", "command", "created_at"]
    )
    op.create_index("ix_requests_state", "requests", ["state"])

    op.create_table(
        "approvals",
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("approver_id", sa.Text, nullable=False),
        sa.Column("approver_name", sa.Text, nullable=False),
        sa.Column("binding", sa.CHAR(64), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("at", _utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name="fk_approvals_request_id_requests"),
        sa.UniqueConstraint("request_id", "approver_id", name="uq_approvals_request_id_approver_id"),
    )

    op.create_table(
        "audit_log",
        # INTEGER on SQLite: the rowid alias (64-bit there).
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("ts", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.Column("actor_id", sa.Text),
        sa.Column("command", sa.Text),
        sa.Column("environment", sa.Text),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])

    op.create_table(
        "locks",
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("holder_id", sa.Text, nullable=False),
        sa.Column("holder_name", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("taken_at", _utc_datetime(), nullable=False),
        sa.Column("expires_at", _utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("environment", name="pk_locks"),
    )

    op.create_table(
        "inbound",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("received_at", _utc_datetime(), nullable=False),
        sa.Column("reply", sa.Text),
        sa.Column("request_id", sa.Text),
        sa.PrimaryKeyConstraint("key", name="pk_inbound"),
    )

    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_append_only_triggers()
    else:
        _create_sqlite_append_only_triggers()


def _create_sqlite_append_only_triggers() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_refuse_{operation.lower()} BEFORE {operation} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def _create_postgresql_append_only_triggers() -> None:
    op.execute(
        "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY} (% refused)', TG_OP; END $$"
    )
    for operation, level in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
        op.execute(
            f"CREATE TRIGGER audit_log_refuse_{operation.lower()} BEFORE {operation} ON audit_log "
            f"FOR EACH {level} EXECUTE FUNCTION audit_log_refuse_change()"
        )


def downgrade() -> None:
    for table in ("inbound", "locks", "audit_head", "audit_log", "approvals", "requests"):
        op.drop_table(table)  # drops the triggers with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_refuse_change()")
