"""The scheduler's queries: the leader lease, scheduled checks' state, reminders."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables_schedules import check_states, leases, reminders
from opsgate.domain.schedule import CheckState, Reminder, ReminderState
from opsgate.errors import ConflictError

_DUE = sa.or_(
    sa.and_(reminders.c.state == ReminderState.PENDING.value, reminders.c.due_at <= sa.bindparam("now")),
    # A claim that ran out: the process delivering it stopped before confirming.
    sa.and_(reminders.c.state == ReminderState.SENDING.value, reminders.c.claimed_until <= sa.bindparam("now")),
)


class SqlSchedules:
    """The SchedulesTransaction port; mixed into SqlTransaction (uses its connection and helpers)."""

    _conn: Connection
    _dialect_insert: Any  # postgresql.insert or sqlite.insert, both with ON CONFLICT

    if TYPE_CHECKING:
        def _rows_written(self, insert: sa.Insert) -> int: ...

    # -- the lease ------------------------------------------------------------------------------

    def lease_acquire(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        # One statement decides: insert, or overwrite a row that is the holder's own or has expired.
        # PostgreSQL: a concurrent insert waits on the key, then re-checks the WHERE against the
        # row the other committed. SQLite: BEGIN IMMEDIATE serialises the two.
        insert = self._dialect_insert(leases).values(name=name, holder=holder,
                                                     expires_at=now + timedelta(seconds=ttl_s))
        upsert = insert.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
            where=sa.or_(leases.c.holder == holder, leases.c.expires_at <= now),
        )
        return self._rows_written(upsert) == 1

    def lease_release(self, name: str, holder: str) -> None:
        self._conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

    def lease_holder(self, name: str, now: datetime) -> str | None:
        query = sa.select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at > now)
        return self._conn.execute(query).scalar_one_or_none()

    # -- scheduled checks -----------------------------------------------------------------------

    def check_state(self, name: str) -> CheckState | None:
        row = self._conn.execute(sa.select(check_states).where(check_states.c.name == name)).one_or_none()
        return None if row is None else CheckState(**row._mapping)

    def check_state_save(self, state: CheckState, *, previous_fire_at: datetime | None) -> bool:
        values = dataclasses.asdict(state)
        if previous_fire_at is None:
            insert = self._dialect_insert(check_states).values(values).on_conflict_do_nothing()
            return self._rows_written(insert) == 1
        update = (check_states.update()
                  .where(check_states.c.name == state.name, check_states.c.last_fire_at == previous_fire_at)
                  .values(values))
        return self._conn.execute(update).rowcount == 1

    # -- reminders ------------------------------------------------------------------------------

    def reminder_add(self, reminder: Reminder) -> None:
        self._conn.execute(reminders.insert().values(_reminder_values(reminder)))

    def reminder_get(self, reminder_id: str, *, for_update: bool = False) -> Reminder | None:
        query = sa.select(reminders).where(reminders.c.id == reminder_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).one_or_none()
        return None if row is None else _reminder_from_row(row)

    def reminder_update(self, reminder: Reminder, *, expected_state: ReminderState) -> None:
        values = _reminder_values(reminder)
        del values["id"]
        changed = self._conn.execute(
            reminders.update()
            .where(reminders.c.id == reminder.id, reminders.c.state == expected_state.value)
            .values(values)
        ).rowcount
        if changed == 0:
            raise ConflictError(f"reminder {reminder.id} is no longer {expected_state.value}; "
                                f"it was not moved to {reminder.state.value}")

    def reminders_list(self, *, states: tuple[ReminderState, ...], created_by: str | None = None,
                       limit: int = 50) -> list[Reminder]:
        query = (sa.select(reminders)
                 .where(reminders.c.state.in_([state.value for state in states]))
                 .order_by(reminders.c.due_at, reminders.c.id)
                 .limit(limit))
        if created_by is not None:
            query = query.where(reminders.c.created_by == created_by)
        return [_reminder_from_row(row) for row in self._conn.execute(query)]

    def reminders_claim_due(self, now: datetime, *, limit: int, lease_s: float) -> list[Reminder]:
        query = (
            sa.select(reminders)
            .where(_DUE)
            .order_by(reminders.c.due_at, reminders.c.id)
            .limit(limit)
            # PostgreSQL: a replica claiming at the same moment skips these rows. SQLite: BEGIN
            # IMMEDIATE already serialises.
            .with_for_update(skip_locked=True)
        )
        due = [_reminder_from_row(row) for row in self._conn.execute(query, {"now": now})]
        claimed_until = now + timedelta(seconds=lease_s)
        claimed = [dataclasses.replace(r, state=ReminderState.SENDING, claimed_until=claimed_until,
                                       attempts=r.attempts + 1) for r in due]
        if claimed:
            self._conn.execute(
                reminders.update()
                .where(reminders.c.id.in_([r.id for r in claimed]))
                .values(state=ReminderState.SENDING.value, claimed_until=claimed_until,
                        attempts=reminders.c.attempts + 1)
            )
        return claimed


def _reminder_values(reminder: Reminder) -> dict[str, Any]:
    values = dataclasses.asdict(reminder)
    values["state"] = reminder.state.value
    return values


def _reminder_from_row(row: sa.Row[Any]) -> Reminder:
    values = dict(row._mapping)
    values["state"] = ReminderState(values["state"])
    return Reminder(**values)
