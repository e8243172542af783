"""Outbox queries for paced delivery: each channel's turns (shared by every sender), hold an item
back for its turn without counting a failed attempt, and look at the item queued after one (to
skip an update that a newer one replaces)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables import OUTBOX_PENDING, channel_pacing, outbox
from opsgate.ports import OutboxItem

NEVER_PACED = datetime(1970, 1, 1, tzinfo=timezone.utc)
OUTBOX_ITEM_COLUMNS = (outbox.c.id, outbox.c.platform, outbox.c.order_key, outbox.c.payload, outbox.c.attempts,
                       outbox.c.turn_at)


def outbox_item(row: sa.Row) -> OutboxItem:
    return OutboxItem(platform=row.platform, order_key=row.order_key, payload=row.payload, id=row.id,
                      attempts=row.attempts, turn_at=row.turn_at)


class SqlDelivery:
    """The DeliveryTransaction port; mixed into SqlTransaction."""

    _conn: Connection
    _dialect_insert: Any  # postgresql.insert or sqlite.insert, both with ON CONFLICT

    def outbox_defer(self, item_id: int, due: datetime) -> None:
        self._conn.execute(outbox.update().where(outbox.c.id == item_id)
                           .values(due_at=due, turn_at=due, leased_until=None))

    def pacing_next_free(self, platform: str, channel: str) -> datetime:
        # The row exists before it is locked: two senders pacing a new channel at once then queue
        # on the same lock (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them already).
        self._conn.execute(self._dialect_insert(channel_pacing)
                           .values(platform=platform, channel=channel, next_free=NEVER_PACED)
                           .on_conflict_do_nothing(index_elements=[channel_pacing.c.platform, channel_pacing.c.channel]))
        query = (sa.select(channel_pacing.c.next_free)
                 .where(channel_pacing.c.platform == platform, channel_pacing.c.channel == channel)
                 .with_for_update())
        return self._conn.execute(query).scalar_one()

    def pacing_set(self, platform: str, channel: str, next_free: datetime) -> None:
        self._conn.execute(channel_pacing.update()
                           .where(channel_pacing.c.platform == platform, channel_pacing.c.channel == channel)
                           .values(next_free=next_free))

    def outbox_next(self, platform: str, order_key: str, after_id: int) -> OutboxItem | None:
        query = (
            sa.select(*OUTBOX_ITEM_COLUMNS)
            .where(outbox.c.platform == platform, outbox.c.order_key == order_key, outbox.c.state == OUTBOX_PENDING,
                   outbox.c.id > after_id)
            .order_by(outbox.c.id)
            .limit(1)
        )
        row = self._conn.execute(query).one_or_none()
        return None if row is None else outbox_item(row)
