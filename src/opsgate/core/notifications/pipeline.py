"""Stored events in, grouped chat messages out: normalise → route → silence → group → deliver.

A processor chain in structlog's manner: each step takes the batch's items and returns the items
that go on (it may drop some, or fan one out into several). A batch of stored events is claimed
with a lease (SKIP LOCKED: no other replica takes them), normalised and routed outside any
transaction (pure work, so the database is not held while it runs), then applied in one
transaction: silences, grouping (under the store's grouping lock), deployment summaries queued in
the chat outbox, the events marked processed and the counters — all of it commits together or not
at all. A crash before that commit leaves the events leased; when the lease runs out they are
claimed and processed again, so nothing is lost or half done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from opsgate.core.notifications import chat_queue, counters
from opsgate.core.notifications.deployments import DeploymentSummaries
from opsgate.core.notifications.environments import EnvironmentIndex
from opsgate.core.notifications.fields import EventError
from opsgate.core.notifications.generic import generic_notice, malformed_notice
from opsgate.core.notifications.normalise import normalise
from opsgate.core.notifications.stored_grouping import BatchGrouping
from opsgate.domain.alerts import Alert, DeploymentEvent, GenericEvent
from opsgate.domain.catalog import Catalog
from opsgate.domain.silences import Silence
from opsgate.ports import Chat, Clock, Store, StoredEvent, Transaction

log = logging.getLogger("opsgate.notifications")

BATCH = 500  # events per transaction: large enough to amortise the commit, small enough to hold locks briefly
LEASE_S = 120.0
ROUTE_MEMO_SIZE = 10_000


@dataclass
class Item:
    """One notification on its way through the chain, and where it goes (after `route`)."""

    event: StoredEvent
    notification: Alert | DeploymentEvent
    route: str = ""
    channel: str = ""


@dataclass
class Batch:
    """What the steps of one batch share: what it counted, what became of each event; once it is
    applied, its transaction, its time and its grouping state."""

    events: list[StoredEvent]
    items: list[Item] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    outcomes: dict[int, list[str]] = field(default_factory=dict)  # stored event id -> what became of it
    silenced_by: dict[str, int] = field(default_factory=dict)  # silence id -> alerts it kept back
    tx: Transaction = field(init=False)
    now: datetime = field(init=False)
    grouping: BatchGrouping = field(init=False)
    _silences: list[Silence] | None = None

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def outcome(self, event: StoredEvent, text: str) -> None:
        found = self.outcomes.setdefault(event.id, [])
        if text not in found:
            found.append(text)

    @property
    def silences(self) -> list[Silence]:
        if self._silences is None:
            self._silences = self.tx.silences_active(self.now)
        return self._silences


Step = Callable[[list[Item], Batch], list[Item]]


class NotificationPipeline:
    def __init__(self, catalog: Catalog, chat: Chat, *, default_channel: str) -> None:
        self.catalog = catalog
        self.rules = catalog.notifications
        self.chat = chat
        self.default_channel = default_channel
        self.environments = EnvironmentIndex(catalog.environments.values())
        self.deployments = DeploymentSummaries(catalog, chat)
        self.pure_steps: list[Step] = [self.route]  # before the transaction
        self.stored_steps: list[Step] = [self.silence, self.group, self.deployments.summarise]
        self._route_labels = tuple(sorted({m.name for route in self.rules.routes for m in route.matchers}))
        self._route_memo: dict[tuple, list[tuple[str, str]]] = {}

    def run(self, tx: Transaction, events: list[StoredEvent], now: datetime) -> Batch:
        """Both halves in one transaction."""
        return self.apply(tx, self.prepare(events), now)

    def prepare(self, events: list[StoredEvent]) -> Batch:
        """normalise → route: no store, no clock; outside any transaction."""
        batch = Batch(events)
        batch.items = self.normalise(events, batch)
        for step in self.pure_steps:
            batch.items = step(batch.items, batch)
        return batch

    def apply(self, tx: Transaction, batch: Batch, now: datetime) -> Batch:
        """silence → group → deliver, then the events marked processed, in `tx`."""
        batch.tx, batch.now, batch.grouping = tx, now, BatchGrouping(tx, self.rules, now)
        items = batch.items
        for step in self.stored_steps:
            items = step(items, batch)
        for item in items:  # a step that neither consumed nor dropped an item: say so rather than lose it
            log.error("notification left over at the end of the chain", extra={"event": item.event.id})
            batch.outcome(item.event, "error: not handled")
        batch.grouping.save()
        if batch.silenced_by:
            tx.silences_counted(batch.silenced_by)
        by_outcome: dict[str, list[int]] = {}
        for event in batch.events:
            by_outcome.setdefault(", ".join(batch.outcomes.get(event.id, ["nothing to show"])), []).append(event.id)
        tx.events_processed(by_outcome, now)
        batch.count(counters.EVENTS, len(batch.events))
        tx.notifications_counted(batch.counts, now)
        return batch

    # -- the steps ----------------------------------------------------------------------------------

    def normalise(self, events: list[StoredEvent], batch: Batch) -> list[Item]:
        """Raw event → alerts and deployment events. Unknown and malformed events become one-off
        notices (generic cards): counted, shown, never dropped."""
        items: list[Item] = []
        for event in events:
            try:
                found = normalise(event.body, self.environments, event_id=event.external_id)
            except EventError as err:
                items.append(self._malformed(event, str(err), batch))
                continue
            except Exception as err:  # a normaliser bug must not hold up the batch, nor lose the event
                log.exception("normaliser failed", extra={"event": event.id, "source": event.source})
                items.append(self._malformed(event, f"internal error ({type(err).__name__})", batch))
                continue
            for notification in found:
                if isinstance(notification, GenericEvent):
                    batch.count(counters.GENERIC)
                    batch.outcome(event, "generic")
                    notification = generic_notice(notification, stored_id=event.id, received_at=event.received_at)
                items.append(Item(event, notification))
        return items

    def _malformed(self, event: StoredEvent, problem: str, batch: Batch) -> Item:
        batch.count(counters.ERRORS)
        batch.outcome(event, f"error: {problem}")
        return Item(event, malformed_notice(problem, event.body, source=event.source, stored_id=event.id,
                                            received_at=event.received_at))

    def route(self, items: list[Item], batch: Batch) -> list[Item]:
        """One item per (route, channel) the notification goes to."""
        return [Item(item.event, item.notification, route, channel)
                for item in items for route, channel in self._routes_of(item.notification)]

    def _routes_of(self, notification: Alert | DeploymentEvent) -> list[tuple[str, str]]:
        # A storm repeats the same few alarms: routes depend only on the labels the matchers read.
        key = (type(notification), tuple(notification.label(name) for name in self._route_labels))
        found = self._route_memo.get(key)
        if found is None:
            if len(self._route_memo) >= ROUTE_MEMO_SIZE:
                self._route_memo.clear()
            found = self._route_memo[key] = self.rules.route(notification, self.default_channel)
        return found

    def silence(self, items: list[Item], batch: Batch) -> list[Item]:
        """Drop what an active silence covers, counting it. An alert a group shows already goes on,
        so that its message can still show it resolved."""
        alerts = [(item.route, item.channel, item.notification) for item in items if isinstance(item.notification, Alert)]
        batch.grouping.load(alerts)
        if not batch.silences:
            return items
        kept = []
        for item in items:
            silence = next((s for s in batch.silences if s.covers(item.notification)), None)
            shown = isinstance(item.notification, Alert) and batch.grouping.shown(item.route, item.channel,
                                                                                   item.notification.key)
            if silence is None or shown:
                kept.append(item)
                continue
            batch.count(counters.SILENCED)
            batch.silenced_by[silence.id] = batch.silenced_by.get(silence.id, 0) + 1
            batch.outcome(item.event, f"silenced by {silence.id}")
        return kept

    def group(self, items: list[Item], batch: Batch) -> list[Item]:
        """Alerts join their groups (the flush job posts them); everything else goes on."""
        rest = []
        for item in items:
            if isinstance(item.notification, Alert):
                batch.grouping.add(item.route, item.channel, item.notification, batch.counts)
                if item.notification.kind not in ("generic", "malformed"):
                    batch.outcome(item.event, "alert")
            else:
                rest.append(item)
        return rest


class EventProcessor:
    """The background job: claims stored events in batches and runs them through the pipeline."""

    def __init__(self, store: Store, pipeline: NotificationPipeline, clock: Clock, *, batch: int = BATCH,
                 lease_s: float = LEASE_S, max_batches: int = 20) -> None:
        self.store = store
        self.pipeline = pipeline
        self.clock = clock
        self.batch = batch
        self.lease_s = lease_s
        self.max_batches = max_batches  # per run, so one run never holds the job forever

    def process_due(self) -> int:
        """Process waiting events, batch after batch; returns how many were processed."""
        done = 0
        for _ in range(self.max_batches):
            with self.store.transaction() as tx:
                now = self.clock.now()  # the batch's time: when it was taken
                events = tx.events_claim(now, limit=self.batch, lease_s=self.lease_s)
            if not events:
                break
            batch = self.pipeline.prepare(events)
            with self.store.transaction() as tx:
                self.pipeline.apply(tx, batch, now)
            chat_queue.wake(self.pipeline.chat)
            done += len(events)
            if len(events) < self.batch:
                break
        return done
