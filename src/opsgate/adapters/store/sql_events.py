"""Received events: stored once per sender id, claimed with a lease, marked processed, counted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables_events import events
from opsgate.ports import StoredEvent

_OUTCOME_MAX_CHARS = 2000


def _add_event(insert: Any) -> Any:
    # Intake's hot path (an alert storm): built once per dialect, parameters bound per call.
    return (
        insert(events)
        .values(source=sa.bindparam("source"), external_id=sa.bindparam("external_id"),
                received_at=sa.bindparam("received_at"), body=sa.bindparam("body"))
        .on_conflict_do_nothing(index_elements=[events.c.source, events.c.external_id])
        .execution_options(preserve_rowcount=True)  # SQLAlchemy keeps an INSERT's rowcount only when asked
    )


_ADD_EVENT = {"postgresql": _add_event(postgresql.insert), "sqlite": _add_event(sqlite.insert)}


class SqlEvents:
    """The EventTransaction port; mixed into SqlTransaction (uses its connection and helpers)."""

    _conn: Connection

    def event_add(self, source: str, external_id: str, body: dict[str, Any], now: datetime) -> bool:
        params = {"source": source, "external_id": external_id, "received_at": now, "body": body}
        return self._conn.execute(_ADD_EVENT[self._conn.dialect.name], params).rowcount == 1

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

    def events_count(self, since: datetime, until: datetime) -> dict[str, int]:
        query = (
            sa.select(events.c.source, sa.func.count())
            .where(events.c.received_at >= since, events.c.received_at < until)
            .group_by(events.c.source)
        )
        return {source: count for source, count in self._conn.execute(query)}
