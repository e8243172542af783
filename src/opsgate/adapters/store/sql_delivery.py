"""Outbox queries for paced delivery: hold an item back without counting a failed attempt, and
look at the item queued after one (to skip an update that a newer one replaces)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables import OUTBOX_PENDING, outbox
from opsgate.ports import OutboxItem


class SqlDelivery:
    """The DeliveryTransaction port; mixed into SqlTransaction."""

    _conn: Connection

    def outbox_defer(self, item_id: int, due: datetime) -> None:
        self._conn.execute(outbox.update().where(outbox.c.id == item_id).values(due_at=due, leased_until=None))

    def outbox_next(self, platform: str, order_key: str, after_id: int) -> OutboxItem | None:
        query = (
            sa.select(outbox.c.id, outbox.c.platform, outbox.c.order_key, outbox.c.payload, outbox.c.attempts)
            .where(outbox.c.platform == platform, outbox.c.order_key == order_key, outbox.c.state == OUTBOX_PENDING,
                   outbox.c.id > after_id)
            .order_by(outbox.c.id)
            .limit(1)
        )
        row = self._conn.execute(query).one_or_none()
        return None if row is None else OutboxItem(platform=row.platform, order_key=row.order_key, payload=row.payload,
                                                   id=row.id, attempts=row.attempts)
