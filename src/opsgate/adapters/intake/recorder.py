"""Storing received events: one transaction per batch, counted, then a wake-up.

Deliveries that arrive together share a transaction (group commit): `record_one` hands its event
to a committer thread, which stores whatever is waiting in one transaction and answers each
delivery once its event is committed. A commit costs about the same for one event as for fifty, so
under a storm this multiplies what intake can store (docs/benchmarks.md, "Alert storm").

Every intake path ends here. The store's unique (source, external_id) is the idempotency claim,
taken in the same transaction that writes the event: a retried delivery is stored once, and
an event is never claimed without being stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from opsgate.metrics import INTAKE_EVENTS
from opsgate.ports import Clock, Store

log = logging.getLogger("opsgate.intake")

BATCH_LIMIT = 200  # events in one transaction at most
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
        self._queue: queue.SimpleQueue[tuple[Received, Future[bool]]] | None = None
        self._start_lock = threading.Lock()

    def record(self, events: Sequence[Received]) -> list[bool]:
        """Store the events in one transaction; for each, True if new, False if stored before.
        Raises (StoreError) when the database is unavailable: then nothing was stored."""
        with self.store.transaction() as tx:
            now = self.clock.now()
            added = tx.events_add([(event.source, event.external_id, event.body) for event in events], now)
        for event, new in zip(events, added):
            INTAKE_EVENTS.labels(event.source, STORED if new else DUPLICATE).inc()
        if any(added):
            try:
                self.on_stored()
            except Exception:  # processing also polls: a failed wake-up only delays it
                log.exception("waking event processing failed")
        return added

    def record_one(self, event: Received) -> bool:
        """Store one delivery's event, in a transaction shared with the deliveries that arrive
        at the same time. Raises like `record` when the database is unavailable."""
        return self.submit(event).result()

    def submit(self, event: Received) -> Future[bool]:
        """`record_one` without waiting: the future answers once the event's transaction ended.
        An event loop awaits it (`asyncio.wrap_future`) without holding a thread for the wait."""
        answer: Future[bool] = Future()
        self._waiting().put((event, answer))
        return answer

    def _waiting(self) -> queue.SimpleQueue[tuple[Received, Future[bool]]]:
        with self._start_lock:
            if self._queue is None:
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._commit_forever, args=(self._queue,), name="opsgate-intake-commit",
                                 daemon=True).start()
            return self._queue

    def _commit_forever(self, waiting: queue.SimpleQueue[tuple[Received, Future[bool]]]) -> None:
        while True:
            batch = [waiting.get()]
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                added = self.record([event for event, _ in batch])
            except BaseException as err:  # every delivery in the batch answers with the failure
                for _, answer in batch:
                    answer.set_exception(err)
            else:
                for (_, answer), new in zip(batch, added):
                    answer.set_result(new)
