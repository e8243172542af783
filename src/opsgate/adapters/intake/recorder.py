"""Storing received events: one transaction per delivery (or SQS batch), counted, then a wake-up.

Every intake path ends here. The store's unique (source, external_id) is the idempotency claim,
taken in the same transaction that writes the event: a retried delivery is stored once, and
an event is never claimed without being stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opsgate.metrics import INTAKE_EVENTS
from opsgate.ports import Clock, Store

log = logging.getLogger("opsgate.intake")

STORED = "stored"
DUPLICATE = "duplicate"


def _nothing() -> None:
    pass


@dataclass(frozen=True, slots=True)
class Received:
    source: str  # "sns", "eventbridge", "sqs", "webhook:<name>"
    external_id: str  # the sender's id for this event: the idempotency key within `source`
    body: dict[str, Any]


class EventRecorder:
    """`on_stored` is called after new events commit, so processing can start at once instead of
    at its next poll; it must be quick and is never allowed to fail a delivery."""

    def __init__(self, store: Store, clock: Clock, *, on_stored: Callable[[], None] = _nothing) -> None:
        self.store = store
        self.clock = clock
        self.on_stored = on_stored

    def record(self, events: Sequence[Received]) -> list[bool]:
        """Store the events in one transaction; for each, True if new, False if stored before.
        Raises (StoreError) when the database is unavailable: then nothing was stored."""
        with self.store.transaction() as tx:
            now = self.clock.now()
            added = [tx.event_add(event.source, event.external_id, event.body, now) for event in events]
        for event, new in zip(events, added):
            INTAKE_EVENTS.labels(event.source, STORED if new else DUPLICATE).inc()
        if any(added):
            try:
                self.on_stored()
            except Exception:  # processing also polls: a failed wake-up only delays it
                log.exception("waking event processing failed")
        return added

    def record_one(self, event: Received) -> bool:
        return self.record([event])[0]
