"""The notification pipeline over a real store, a fake clock and a recording chat: store events the
way intake does, then run the processing and the flush jobs exactly when a test says."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from opsgate.adapters.intake.testing import TOPIC, alarm_message
from opsgate.adapters.store import open_store
from opsgate.adapters.store.tables_events import events
from opsgate.config import load_catalog_text
from opsgate.core.notifications.flushing import GroupFlusher
from opsgate.core.notifications.pipeline import EventProcessor, NotificationPipeline
from opsgate.domain.message import Message
from opsgate.ports import Chat
from opsgate.testing import FakeClock, RecordingChat
from tests.core.notifications.alert_samples import T0

CATALOG = """
version: 1
environments:
  - {name: prod, account: "222222222222", region: eu-west-1}
  - {name: dev, account: "111111111111", region: eu-west-1}
people:
  - {id: carol, name: Carol Example, identities: {slack: U03CAROL, console: carol}}
  - {id: alice, name: Alice Example, identities: {slack: U01ALICE, console: alice}}
roles:
  - {name: sre, members: [carol], permissions: [ack, silence]}
  - {name: developer, members: [alice], permissions: []}
notifications:
  default_channel: C0ALERTS
  grouping:
    group_by: [environment, source]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 1h
    mention_at: critical
    mention: {people: [carol], groups: [S0ONCALL]}
  routes:
    - {name: dev, match: ["environment=dev"], channels: [C0DEV]}
  owners:
    - {resource: "web-*", people: [alice]}
"""


def alarm(name: str, state: str = "ALARM", *, at: datetime = T0, account: str = "222222222222",
          severity: str = "high", message_id: str | None = None) -> dict[str, Any]:
    """An SNS notification of a CloudWatch alarm, as intake stores it."""
    return {"Type": "Notification", "MessageId": message_id or f"{name}-{state}-{at.timestamp()}",
            "TopicArn": TOPIC, "Subject": f"{state}: {name}", "Timestamp": at.isoformat(),
            "Message": alarm_message(name, state, at=at, account=account, description=f"severity={severity}")}


class NotifyWorld:
    def __init__(self, url: str, *, catalog: str = CATALOG, chat: Chat | None = None, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock(T0)
        self.store = open_store(url)
        self.chat = chat if chat is not None else RecordingChat()
        self.catalog = load_catalog_text(catalog)
        self.pipeline = NotificationPipeline(self.catalog, self.chat, default_channel="console")
        self.processor = EventProcessor(self.store, self.pipeline, self.clock)
        self.flusher = GroupFlusher(self.catalog, self.store, self.chat, self.clock)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.store.close()

    def receive(self, *bodies: dict[str, Any], source: str = "sns") -> None:
        with self.store.transaction() as tx:
            for raw in bodies:
                tx.event_add(source, str(raw.get("MessageId") or raw.get("id") or next(self._ids)), raw, self.clock.now())

    def process(self) -> int:
        return self.processor.process_due()

    def at(self, seconds: float) -> int:
        """Move the clock to T0 + seconds, process what came in, flush what is due."""
        self.clock.set(T0 + timedelta(seconds=seconds))
        self.process()
        return self.flusher.flush_due()

    @property
    def messages(self) -> list[Message]:
        return self.chat.messages  # type: ignore[attr-defined]

    def take(self) -> list[Message]:
        """The messages posted since the last take."""
        taken = list(self.messages)
        self.messages.clear()
        return taken

    def counts(self) -> dict[str, int]:
        with self.store.transaction() as tx:
            return tx.notification_counts(T0 - timedelta(days=1), T0 + timedelta(days=30))

    def outcomes(self) -> dict[str, str]:
        with self.store.transaction() as tx:
            return {row.external_id: row.outcome for row in tx._conn.execute(sa.select(events.c.external_id, events.c.outcome))}

    def group(self, short_id: str):
        with self.store.transaction() as tx:
            return tx.alert_group_get(short_id)
