"""Records for the SQL store tests, and a way to start threads at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from opsgate.adapters.store import SqlStore
from opsgate.domain.audit import AuditEntry
from opsgate.domain.request import RequestRecord, State, binding_hash

T0 = datetime(2024, 6, 3, 9, 30, tzinfo=timezone.utc)


def make_request(
    request_id: str = "r-0000abcd", *, state: State = State.AWAITING_APPROVAL, **changes: Any
) -> RequestRecord:
    values: dict[str, Any] = dict(
        id=request_id,
        command="deploy",
        params={"service": "api", "version": "1.2.3"},
        environment="prod",
        requester_id="alice",
        requester_name="Alice",
        platform="slack",
        channel="C0DEPLOY",
        state=state,
        binding=binding_hash("deploy", {"service": "api", "version": "1.2.3"}, "prod"),
        created_at=T0,
        updated_at=T0,
        approvals_required=1,
        approver_roles=("sre",),
        expires_at=T0 + timedelta(hours=1),
        decision_rule="approval.protected-env",
    )
    values.update(changes)
    return RequestRecord(**values)


def make_entry(n: int = 0, **changes: Any) -> AuditEntry:
    values: dict[str, Any] = dict(
        event="request.decided",
        actor_platform="slack",
        actor_id="U0ALICE",
        actor_name="Alice",
        request_id=f"r-{n:08d}",
        command="deploy",
        params={"service": "api"},
        environment="prod",
        decision="approve",
        rule="approval.protected-env",
    )
    values.update(changes)
    return AuditEntry(**values)


def append_records(store: SqlStore, count: int) -> None:
    for n in range(1, count + 1):
        with store.transaction() as tx:
            tx.append_audit(make_entry(n), T0 + timedelta(seconds=n))


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` for i in range(n) in n threads released at once; each result or exception."""
    barrier = threading.Barrier(n, timeout=30)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected for the test to assert on
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a worker thread hung"
    return results


def claims_meanwhile(store: SqlStore, claim: Callable[[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
    """(what a claim got in a transaction held open, what the same claim got meanwhile in another):
    PostgreSQL's SKIP LOCKED lets the second go past the first's rows without waiting."""
    holding, release = threading.Event(), threading.Event()
    held: list[list[Any]] = []

    def slow_claim() -> None:
        with store.transaction() as tx:
            held.append(claim(tx))
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=slow_claim)
    thread.start()
    assert holding.wait(30)
    with store.transaction() as tx:
        other = claim(tx)  # does not wait for the open transaction
    release.set()
    thread.join(30)
    return held[0], other
