"""Metrics read from the database when /metrics is scraped: request outcomes, requests waiting for
people, the outbox depth.

They count what the database holds, so they are right whichever process or replica did the work
(every replica reports the same numbers: aggregate with max(), not sum()). Reads are cached for
`cache_s`, so frequent scrapes cost one query round per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from opsgate.domain.request import FINAL_STATES, State
from opsgate.ports import Store

WAITING_STATES = (State.AWAITING_APPROVAL, State.AWAITING_CONFIRMATION)
ACTIVE_STATES = (State.APPROVED, State.RUNNING)
_OUTCOMES = tuple(sorted(FINAL_STATES, key=lambda s: s.value))


@dataclass
class _Snapshot:
    requests: dict[tuple[str, str], int] = field(default_factory=dict)  # (command, state) -> count
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (platform, state) -> count
    ok: bool = True


class DatabaseCollector(Collector):
    def __init__(self, store: Store, *, cache_s: float = 10.0, monotonic=time.monotonic) -> None:
        self.store = store
        self.cache_s = cache_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._read_at = 0.0

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        snapshot = self._current()
        up = GaugeMetricFamily("opsgate_database_up", "1 when the last read of the metrics below succeeded.")
        up.add_metric([], 1.0 if snapshot.ok else 0.0)
        yield up
        outcomes = CounterMetricFamily(
            "opsgate_requests", "Requests that reached a final state, by command and outcome "
            "(succeeded, failed, denied, expired, cancelled).", labels=["command", "outcome"])
        waiting = GaugeMetricFamily("opsgate_requests_waiting", "Requests waiting for people now, by state "
                                    "(awaiting_approval: pending approvals; awaiting_confirmation).", labels=["state"])
        active = GaugeMetricFamily("opsgate_requests_active", "Requests approved or running now, by state.",
                                   labels=["state"])
        totals: dict[str, int] = {}
        for (command, state), count in sorted(snapshot.requests.items()):
            if State(state) in FINAL_STATES:
                outcomes.add_metric([command, state], count)
            totals[state] = totals.get(state, 0) + count
        for family, states in ((waiting, WAITING_STATES), (active, ACTIVE_STATES)):
            for state in states:
                family.add_metric([state.value], totals.get(state.value, 0))
        yield outcomes
        yield waiting
        yield active
        depth = GaugeMetricFamily("opsgate_outbox_messages", "Chat messages in the outbox, by platform and state "
                                  "(pending: waiting to be sent; dead: given up, kept for operators).",
                                  labels=["platform", "state"])
        for (platform, state), count in sorted(snapshot.outbox.items()):
            depth.add_metric([platform, state], count)
        yield depth

    def _current(self) -> _Snapshot:
        with self._lock:  # one read at a time; scrapes that arrive meanwhile take its result
            if self._snapshot is not None and self._monotonic() - self._read_at < self.cache_s:
                return self._snapshot
            try:
                with self.store.reading() as tx:
                    snapshot = _Snapshot(requests=tx.request_counts(_OUTCOMES + WAITING_STATES + ACTIVE_STATES),
                                         outbox=tx.outbox_counts())
            except Exception:  # a scrape must answer; opsgate_database_up says the numbers are stale
                snapshot = _Snapshot(ok=False) if self._snapshot is None else _Snapshot(
                    self._snapshot.requests, self._snapshot.outbox, ok=False)
            self._snapshot, self._read_at = snapshot, self._monotonic()
            return snapshot
