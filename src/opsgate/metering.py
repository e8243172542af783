"""Wrappers that count what the core does, put around its ports by the composition root (the core
itself knows nothing of metrics): lines handled, and decisions on requests once committed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opsgate import metrics
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply
from opsgate.domain.request import RequestRecord, State
from opsgate.ports import Store, Transaction


def counted_lines(platform: str, handle: Callable[[Inbound], Reply]) -> Callable[[Inbound], Reply]:
    """`handle` (Dispatcher.handle, which never raises), counting lines and timing each."""
    seconds, ok, refused = (metrics.LINE_SECONDS.labels(platform), metrics.LINES.labels(platform, "ok"),
                            metrics.LINES.labels(platform, "refused"))

    def run(inbound: Inbound) -> Reply:
        started = time.perf_counter()
        reply = handle(inbound)
        seconds.observe(time.perf_counter() - started)
        (ok if reply.ok else refused).inc()
        return reply

    return run


class MeteredStore:
    """The Store port, observing request moves after their transaction committed (a rolled back
    move is not counted). Everything else passes through unchanged."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        moves: list[tuple[State, RequestRecord]] = []
        with self._store.transaction() as tx:
            yield _MeteredTransaction(tx, moves)  # type: ignore[misc]
        for before, record in moves:
            observe_move(before, record)


class _MeteredTransaction:
    def __init__(self, tx: Transaction, moves: list[tuple[State, RequestRecord]]) -> None:
        self._tx = tx
        self._moves = moves

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def update_request(self, record: RequestRecord, *, expected_state: State) -> None:
        self._tx.update_request(record, expected_state=expected_state)
        self._moves.append((expected_state, record))


def observe_move(before: State, record: RequestRecord) -> None:
    """A request that waited for people got its decision: how long it waited."""
    if before.pending and not record.state.pending:
        waited_s = (record.updated_at - record.created_at).total_seconds()
        metrics.DECISION_SECONDS.labels(record.state.value).observe(max(waited_s, 0.0))
