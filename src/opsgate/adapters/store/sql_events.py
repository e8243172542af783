"""Received events: stored once per sender id, claimed with a lease, marked processed, counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables_events import events
from opsgate.ports import StoredEvent

_OUTCOME_MAX_CHARS = 2000


def _add_events(insert: Any) -> Any:
    # Intake's hot path (an alert storm): built once per dialect and executed with many parameter
    # sets, which SQLAlchemy sends as multi-row INSERTs (its "insertmanyvalues"); RETURNING names
    # the rows written, so the caller learns which events are new.
    return (
        insert(events)
        .values(source=sa.bindparam("source"), external_id=sa.bindparam("external_id"),
                received_at=sa.bindparam("received_at"), body=sa.bindparam("body"))
        .on_conflict_do_nothing(index_elements=[events.c.source, events.c.external_id])
        .returning(events.c.source, events.c.external_id)
    )


_ADD_EVENTS = {"postgresql": _add_events(postgresql.insert), "sqlite": _add_events(sqlite.insert)}


class SqlEvents:
    """The EventTransaction port; mixed into SqlTransaction (uses its connection and helpers)."""

    _conn: Connection

    def event_add(self, source: str, external_id: str, body: dict[str, Any], now: datetime) -> bool:
        return self.events_add([(source, external_id, body)], now)[0]

    def events_add(self, received: Sequence[tuple[str, str, dict[str, Any]]], now: datetime) -> list[bool]:
        # A duplicate (stored before, or earlier in this batch) is not returned: it reads False.
        if not received:
            return []
        params = [{"source": source, "external_id": external_id, "received_at": now, "body": body}
                  for source, external_id, body in received]
        written = {(row.source, row.external_id) for row in self._conn.execute(_ADD_EVENTS[self._conn.dialect.name], params)}
        added = []
        for source, external_id, _ in received:
            added.append((source, external_id) in written)
            written.discard((source, external_id))  # the same id again in this batch is a duplicate
        return added

    def events_claim(self, now: datetime, *, limit: int, lease_s: float) -> list[StoredEvent]:
        query = (
            sa.select(events.c.id, events.c.source, events.c.external_id, events.c.received_at, events.c.body)
            .where(
                events.c.processed_at.is_(None),
                sa.or_(events.c.leased_until.is_(None), events.c.leased_until <= now),
            )
            .order_by(events.c.id)
            .limit(limit)
            # PostgreSQL: a processor claiming at the same moment skips these rows instead of waiting
            # for them (and then processing them too). SQLite: BEGIN IMMEDIATE already serialises.
            .with_for_update(skip_locked=True)
        )
        claimed = [StoredEvent(id=row.id, source=row.source, external_id=row.external_id,
                               received_at=row.received_at, body=row.body) for row in self._conn.execute(query)]
        self._lease(events, [event.id for event in claimed], now + timedelta(seconds=lease_s))
        return claimed

    def event_processed(self, event_id: int, outcome: str, now: datetime) -> None:
        # The first outcome stands: a processor whose lease ran out does not overwrite it.
        self._conn.execute(
            events.update()
            .where(events.c.id == event_id, events.c.processed_at.is_(None))
            .values(processed_at=now, outcome=outcome[:_OUTCOME_MAX_CHARS], leased_until=None)
        )

    def events_prune(self, received_before: datetime, *, limit: int) -> int:
        oldest = (sa.select(events.c.id)
                  .where(events.c.processed_at.is_not(None), events.c.received_at < received_before)
                  .order_by(events.c.id).limit(limit))
        # A batch at a time: one short transaction each, never a long lock on the table.
        deleted = self._conn.execute(events.delete().where(events.c.id.in_(oldest.scalar_subquery()))
                                     .execution_options(preserve_rowcount=True))
        return deleted.rowcount

    def events_count(self, since: datetime, until: datetime) -> dict[str, int]:
        query = (
            sa.select(events.c.source, sa.func.count())
            .where(events.c.received_at >= since, events.c.received_at < until)
            .group_by(events.c.source)
        )
        return {source: count for source, count in self._conn.execute(query)}
