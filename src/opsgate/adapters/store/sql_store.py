"""The Store and Transaction ports on SQLAlchemy Core, for SQLite and PostgreSQL.

Races are settled by the database: conditional updates (`WHERE state = :expected`), unique keys
with INSERT ... ON CONFLICT, row locks on PostgreSQL and BEGIN IMMEDIATE on SQLite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from opsgate.adapters.store.audit_chain import audit_row, chain_rows, check_head
from opsgate.adapters.store.engine import create_engine_for, snapshot_options
from opsgate.adapters.store.errors import map_db_errors
from opsgate.adapters.store.migrate import migration_status, upgrade
from opsgate.adapters.store.sql_alerts import SqlAlerts
from opsgate.adapters.store.sql_browse import SqlBrowse
from opsgate.adapters.store.sql_delivery import OUTBOX_ITEM_COLUMNS, SqlDelivery, outbox_item
from opsgate.adapters.store.sql_events import SqlEvents
from opsgate.adapters.store.sql_schedules import SqlSchedules
from opsgate.adapters.store.sql_incidents import SqlIncidents
from opsgate.adapters.store.sql_stats import SqlStats
from opsgate.adapters.store.tables import (
    AUDIT_HEAD_ID,
    OUTBOX_DEAD,
    OUTBOX_PENDING,
    approvals,
    audit_head,
    audit_log,
    inbound,
    locks,
    message_refs,
    outbox,
    requests,
)
from opsgate.domain.audit import AuditEntry, SealedRecord, VerifyResult, format_ts, seal, verify_chain
from opsgate.domain.lock import Lock
from opsgate.domain.request import ApprovalRecord, RequestRecord, State
from opsgate.errors import ConflictError, StoreError
from opsgate.ports import MessageRef, OutboxItem

__all__ = ["SqlStore", "SqlTransaction", "create_engine_for", "migration_status", "open_store", "upgrade"]

_PENDING_STATES = tuple(state.value for state in State if state.pending)
_SEALED_COLUMNS = (audit_log.c.seq, audit_log.c.body, audit_log.c.hash)

# Appends are the hot path: statements built once, parameters bound per call (about twice as
# fast as building them each time).
_READ_AUDIT_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == AUDIT_HEAD_ID)
_LOCK_AUDIT_HEAD = _READ_AUDIT_HEAD.with_for_update()  # SQLite: no-op, BEGIN IMMEDIATE serialises
_INSERT_AUDIT_RECORD = audit_log.insert()
_MOVE_AUDIT_HEAD = (
    audit_head.update()
    .where(audit_head.c.id == AUDIT_HEAD_ID)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)

# An outbox item is due only when no older item of its order key is still waiting (sent in order).
_EARLIER = outbox.alias("earlier")
_EARLIER_WAITING = (
    sa.exists()
    .where(
        _EARLIER.c.platform == outbox.c.platform,
        _EARLIER.c.order_key == outbox.c.order_key,
        _EARLIER.c.state == OUTBOX_PENDING,
        _EARLIER.c.id < outbox.c.id,
    )
)


def open_store(url: str, *, migrate: bool = True) -> SqlStore:
    """A store on `url`, upgraded to the newest schema (or checked to be at it, with migrate=False)."""
    engine = create_engine_for(url)
    try:
        if migrate:
            upgrade(engine)
        else:
            current, head = migration_status(engine)
            if current != head:
                raise StoreError(
                    f"the database schema is at revision {current or 'none'}, this opsgate needs {head}: "
                    "upgrade it first (open the store with migrate=True)"
                )
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    def readiness_problem(self) -> str | None:
        """None when the database answers and its schema is at the newest migration; else why not."""
        try:
            current, head = migration_status(self.engine)
        except StoreError as problem:
            return f"the database does not answer: {problem}"
        if current != head:
            return f"the database schema is at {current or 'none'}, this opsgate needs {head}"
        return None

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """One write transaction: commits when the block ends, rolls back if it raises."""
        with map_db_errors(), self.engine.begin() as conn:
            yield SqlTransaction(conn)

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        """A read-only transaction over one consistent view that does not hold up writers (pages,
        /metrics); on PostgreSQL a write through it fails."""
        with map_db_errors(), self._snapshot() as conn:
            yield SqlTransaction(conn)

    def verify_audit(self) -> VerifyResult:
        with map_db_errors(), self._snapshot() as conn:
            head_seq, head_hash = conn.execute(_READ_AUDIT_HEAD).one()
            return check_head(verify_chain(chain_rows(conn)), head_seq, head_hash)

    def iter_audit(
        self, *, since: datetime | None = None, until: datetime | None = None, after_seq: int = 0
    ) -> Iterator[SealedRecord]:
        """Records with seq > after_seq and since <= ts < until, in seq order, read in batches."""
        query = sa.select(*_SEALED_COLUMNS).where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq)
        if since is not None:
            query = query.where(audit_log.c.ts >= format_ts(since))
        if until is not None:
            query = query.where(audit_log.c.ts < format_ts(until))
        with map_db_errors(), self._snapshot() as conn:
            for seq, body, hash_ in conn.execution_options(yield_per=1_000).execute(query):
                yield SealedRecord(seq, body, hash_)

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read-only transaction over one consistent view that does not hold up writers."""
        with self.engine.connect() as conn:
            conn.execution_options(**snapshot_options(self.engine))
            with conn.begin():
                yield conn


class SqlTransaction(SqlEvents, SqlBrowse, SqlIncidents, SqlSchedules, SqlAlerts, SqlDelivery, SqlStats):
    """The Transaction port on one connection inside one database transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert

    # -- inbound (idempotency) ------------------------------------------------------------------

    def claim_inbound(self, key: str, now: datetime) -> bool:
        claim = self._dialect_insert(inbound).values(key=key, received_at=now).on_conflict_do_nothing()
        return self._rows_written(claim) == 1

    def inbound_reply(self, key: str) -> tuple[str | None, str | None]:
        row = self._conn.execute(
            sa.select(inbound.c.reply, inbound.c.request_id).where(inbound.c.key == key)
        ).one_or_none()
        return (None, None) if row is None else (row.reply, row.request_id)

    def save_inbound_reply(self, key: str, reply: str, request_id: str | None) -> None:
        update = inbound.update().where(inbound.c.key == key).values(reply=reply, request_id=request_id)
        self._conn.execute(update)

    # -- requests --------------------------------------------------------------------------------

    def insert_request(self, record: RequestRecord) -> None:
        self._conn.execute(requests.insert().values(_request_values(record)))

    def get_request(self, request_id: str, *, for_update: bool = False) -> RequestRecord | None:
        query = sa.select(requests).where(requests.c.id == request_id)
        if for_update:
            query = query.with_for_update()  # SQLite has no row locks; BEGIN IMMEDIATE serialises
        row = self._conn.execute(query).one_or_none()
        return None if row is None else _request_from_row(row)

    def update_request(self, record: RequestRecord, *, expected_state: State) -> None:
        values = _request_values(record)
        del values["id"], values["created_at"]
        changed = self._conn.execute(
            requests.update()
            .where(requests.c.id == record.id, requests.c.state == expected_state.value)
            .values(values)
        ).rowcount
        if changed == 0:
            raise ConflictError(
                f"request {record.id} is no longer {expected_state.value} (changed by someone else, "
                f"or missing); it was not moved to {record.state.value}"
            )

    def list_requests(
        self, *, states: tuple[State, ...] = (), requester_id: str | None = None, limit: int = 20
    ) -> list[RequestRecord]:
        query = sa.select(requests).order_by(requests.c.created_at.desc(), requests.c.id).limit(limit)
        if states:
            query = query.where(requests.c.state.in_([state.value for state in states]))
        if requester_id is not None:
            query = query.where(requests.c.requester_id == requester_id)
        return [_request_from_row(row) for row in self._conn.execute(query)]

    def expiring_requests(self, now: datetime) -> list[RequestRecord]:
        query = (
            sa.select(requests)
            .where(requests.c.state.in_(_PENDING_STATES), requests.c.expires_at <= now)
            .order_by(requests.c.expires_at, requests.c.id)
        )
        return [_request_from_row(row) for row in self._conn.execute(query)]

    def count_requests(self, requester_id: str, command: str, since: datetime) -> int:
        query = sa.select(sa.func.count()).where(
            requests.c.requester_id == requester_id,
            requests.c.command == command,
            requests.c.created_at >= since,
        )
        return self._conn.execute(query).scalar_one()

    # -- approvals -------------------------------------------------------------------------------

    def add_approval(self, approval: ApprovalRecord) -> None:
        # ON CONFLICT instead of catching the unique violation: on PostgreSQL an error would
        # abort the whole transaction, and the caller may want to go on (reply, audit).
        insert = self._dialect_insert(approvals).values(dataclasses.asdict(approval)).on_conflict_do_nothing()
        if self._rows_written(insert) == 0:
            raise ConflictError(f"{approval.approver_id} has already approved request {approval.request_id}")

    def approvals(self, request_id: str) -> list[ApprovalRecord]:
        query = sa.select(approvals).where(approvals.c.request_id == request_id).order_by(approvals.c.at)
        return [ApprovalRecord(**row._mapping) for row in self._conn.execute(query)]

    # -- audit -----------------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry, now: datetime) -> SealedRecord:
        # The head row lock (PostgreSQL) or the write transaction (SQLite) admits one appender at
        # a time, so every record links to the one before it, whichever replica wrote it.
        head_seq, head_hash = self._conn.execute(_LOCK_AUDIT_HEAD).one()
        record = seal(entry, head_seq + 1, now, head_hash)
        self._conn.execute(_INSERT_AUDIT_RECORD, audit_row(record))
        self._conn.execute(_MOVE_AUDIT_HEAD, {"new_seq": record.seq, "new_hash": record.hash})
        return record

    def recent_audit(
        self, *, limit: int = 20, actor_id: str | None = None, request_id: str | None = None
    ) -> list[SealedRecord]:
        query = sa.select(*_SEALED_COLUMNS).order_by(audit_log.c.seq.desc()).limit(limit)
        if actor_id is not None:
            query = query.where(audit_log.c.actor_id == actor_id)
        if request_id is not None:
            query = query.where(audit_log.c.request_id == request_id)
        return [SealedRecord(seq, body, hash_) for seq, body, hash_ in self._conn.execute(query)]

    # -- locks -----------------------------------------------------------------------------------

    def active_lock(self, environment: str, now: datetime) -> Lock | None:
        query = sa.select(locks).where(locks.c.environment == environment, locks.c.expires_at > now)
        row = self._conn.execute(query).one_or_none()
        return None if row is None else Lock(**row._mapping)

    def active_locks(self, now: datetime) -> list[Lock]:
        query = sa.select(locks).where(locks.c.expires_at > now).order_by(locks.c.environment)
        return [Lock(**row._mapping) for row in self._conn.execute(query)]

    def put_lock(self, lock: Lock, now: datetime) -> None:
        # One statement decides: insert, or replace a lock that is the holder's own or has expired.
        insert = self._dialect_insert(locks).values(dataclasses.asdict(lock))
        upsert = insert.on_conflict_do_update(
            index_elements=[locks.c.environment],
            set_={column.name: insert.excluded[column.name] for column in locks.c if not column.primary_key},
            where=sa.or_(locks.c.holder_id == lock.holder_id, locks.c.expires_at <= now),
        )
        if self._rows_written(upsert) == 0:
            held = self.active_lock(lock.environment, now)
            assert held is not None  # the upsert found a row it may not replace: an active lock
            raise ConflictError(
                f"{lock.environment} is locked by {held.holder_name} ({held.holder_id}) "
                f"until {held.expires_at:%Y-%m-%d %H:%M} UTC"
            )

    def delete_lock(self, environment: str) -> None:
        self._conn.execute(locks.delete().where(locks.c.environment == environment))

    # -- chat outbox and message refs -------------------------------------------------------------

    def outbox_add(self, item: OutboxItem, now: datetime) -> int:
        insert = outbox.insert().values(
            platform=item.platform, order_key=item.order_key, payload=item.payload, state=OUTBOX_PENDING,
            created_at=now, due_at=now, attempts=0,
        ).returning(outbox.c.id)
        return self._conn.execute(insert).scalar_one()

    def outbox_due(self, platform: str, now: datetime, *, limit: int, lease_s: float) -> list[OutboxItem]:
        query = (
            sa.select(*OUTBOX_ITEM_COLUMNS)
            .where(
                outbox.c.platform == platform,
                outbox.c.state == OUTBOX_PENDING,
                outbox.c.due_at <= now,
                sa.or_(outbox.c.leased_until.is_(None), outbox.c.leased_until <= now),
                ~_EARLIER_WAITING,
            )
            .order_by(outbox.c.id)
            .limit(limit)
            # PostgreSQL: a replica claiming at the same moment skips these rows instead of waiting
            # for them (and then sending them too). SQLite: BEGIN IMMEDIATE already serialises.
            .with_for_update(skip_locked=True, of=outbox)
        )
        items = [outbox_item(row) for row in self._conn.execute(query)]
        self._lease(outbox, [item.id for item in items], now + timedelta(seconds=lease_s))
        return items

    def outbox_done(self, item_id: int) -> None:
        self._conn.execute(outbox.delete().where(outbox.c.id == item_id))

    def outbox_retry_at(self, item_id: int, due: datetime, error: str) -> None:
        self._conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(due_at=due, leased_until=None, attempts=outbox.c.attempts + 1, last_error=error[:2000])
        )

    def outbox_give_up(self, item_id: int, error: str) -> None:
        self._conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(state=OUTBOX_DEAD, leased_until=None, attempts=outbox.c.attempts + 1, last_error=error[:2000])
        )

    def outbox_pending(self, platform: str) -> int:
        query = sa.select(sa.func.count()).where(outbox.c.platform == platform, outbox.c.state == OUTBOX_PENDING)
        return self._conn.execute(query).scalar_one()

    def outbox_waiting(self, platform: str, order_keys: Collection[str]) -> set[str]:
        if not order_keys:
            return set()
        query = sa.select(outbox.c.order_key).distinct().where(
            outbox.c.platform == platform, outbox.c.state == OUTBOX_PENDING, outbox.c.order_key.in_(list(order_keys)))
        return set(self._conn.execute(query).scalars())

    def message_ref_get(self, platform: str, request_id: str) -> MessageRef | None:
        query = sa.select(message_refs.c.channel, message_refs.c.ts).where(
            message_refs.c.platform == platform, message_refs.c.request_id == request_id
        )
        row = self._conn.execute(query).one_or_none()
        return None if row is None else MessageRef(channel=row.channel, ts=row.ts)

    def message_ref_put(self, platform: str, request_id: str, ref: MessageRef, now: datetime) -> None:
        insert = self._dialect_insert(message_refs).values(
            platform=platform, request_id=request_id, channel=ref.channel, ts=ref.ts, updated_at=now
        )
        self._conn.execute(insert.on_conflict_do_update(
            index_elements=[message_refs.c.platform, message_refs.c.request_id],
            set_={"channel": insert.excluded.channel, "ts": insert.excluded.ts, "updated_at": insert.excluded.updated_at},
        ))

    def _lease(self, table: sa.Table, ids: list[int], until: datetime) -> None:
        """Keep claimed rows (outbox items, events) from other claimers until `until`."""
        if ids:
            self._conn.execute(table.update().where(table.c.id.in_(ids)).values(leased_until=until))

    def _rows_written(self, insert: sa.Insert) -> int:
        # SQLAlchemy keeps the driver's rowcount of an INSERT only when asked to.
        return self._conn.execute(insert.execution_options(preserve_rowcount=True)).rowcount


def _request_values(record: RequestRecord) -> dict[str, Any]:
    values = {field.name: getattr(record, field.name) for field in dataclasses.fields(RequestRecord)}
    values["state"] = record.state.value
    values["approver_roles"] = list(record.approver_roles)
    return values


def _request_from_row(row: sa.Row[Any]) -> RequestRecord:
    values = dict(row._mapping)
    values["state"] = State(values["state"])
    values["approver_roles"] = tuple(values["approver_roles"])
    return RequestRecord(**values)
