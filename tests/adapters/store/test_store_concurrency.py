"""Races between replicas, played with real threads on separate connections.

PostgreSQL (READ COMMITTED) settles them with conditional updates, ON CONFLICT and row locks;
SQLite serialises writers with BEGIN IMMEDIATE. The races a single SQLite file cannot have
(two transactions both past their reads) are PostgreSQL-only.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from store_samples import T0, make_entry, make_request, run_together

from opsgate.domain.request import ApprovalRecord, State
from opsgate.errors import ConflictError


@pytest.mark.parametrize(
    ("current", "target"), [(State.AWAITING_APPROVAL, State.APPROVED), (State.APPROVED, State.RUNNING)]
)
def test_two_replicas_moving_one_request_exactly_one_wins(postgres_store, current, target):
    with postgres_store.transaction() as tx:
        tx.insert_request(make_request(state=current))
    both_read = threading.Barrier(2, timeout=30)

    def move(i: int) -> str:
        with postgres_store.transaction() as tx:
            record = tx.get_request("r-0000abcd")
            both_read.wait()  # each saw `current`; now both try to move it
            tx.update_request(record.moved(target, T0, error=f"replica {i}"), expected_state=current)
        return "moved"

    results = run_together(2, move)
    assert results.count("moved") == 1
    assert sum(isinstance(r, ConflictError) for r in results) == 1
    with postgres_store.transaction() as tx:
        stored = tx.get_request("r-0000abcd")
    assert stored.state is target
    assert stored.error == f"replica {results.index('moved')}"


def test_the_same_approver_approving_twice_at_once_leaves_one_approval(postgres_store):
    with postgres_store.transaction() as tx:
        tx.insert_request(make_request())

    def approve(i: int) -> str:
        with postgres_store.transaction() as tx:
            at = T0 + timedelta(seconds=i)
            tx.add_approval(ApprovalRecord("r-0000abcd", "bob", "Bob", "b" * 64, "sre", at))
        return "approved"

    results = run_together(2, approve)
    assert results.count("approved") == 1
    assert sum(isinstance(r, ConflictError) for r in results) == 1
    with postgres_store.transaction() as tx:
        assert len(tx.approvals("r-0000abcd")) == 1


def test_a_locked_request_is_read_by_the_next_writer_after_the_first_commits(store):
    with store.transaction() as tx:
        tx.insert_request(make_request())
    locked, release = threading.Event(), threading.Event()
    seen: list[State] = []

    def first_writer() -> None:
        with store.transaction() as tx:
            record = tx.get_request("r-0000abcd", for_update=True)
            locked.set()
            release.wait(30)
            tx.update_request(record.moved(State.APPROVED, T0), expected_state=State.AWAITING_APPROVAL)

    def second_writer() -> None:
        locked.wait(30)
        with store.transaction() as tx:
            seen.append(tx.get_request("r-0000abcd", for_update=True).state)

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive(), "the second writer read the request while the first held it"
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [State.APPROVED]


def test_one_of_five_concurrent_claims_of_a_key_succeeds(store):
    def claim(i: int) -> bool:
        with store.transaction() as tx:
            return tx.claim_inbound("slack:retry-1", T0 + timedelta(milliseconds=i))

    results = run_together(5, claim)
    assert sorted(results) == [False, False, False, False, True]


def test_concurrent_appends_form_one_verified_chain(store):
    def append_200(i: int) -> list[int]:
        seqs = []
        for n in range(200):
            with store.transaction() as tx:
                seqs.append(tx.append_audit(make_entry(n, actor_id=f"U0WRITER{i}"), T0).seq)
        return seqs

    results = run_together(4, append_200)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, 801))
    result = store.verify_audit()
    assert (result.ok, result.checked) == (True, 800)


def test_verification_during_appends_sees_a_consistent_log(store):
    done = threading.Event()

    def append_many() -> None:
        try:
            for n in range(300):
                with store.transaction() as tx:
                    tx.append_audit(make_entry(n), T0)
        finally:
            done.set()

    writer = threading.Thread(target=append_many)
    writer.start()
    results = []
    while not done.is_set():
        results.append(store.verify_audit())
    writer.join()
    assert results and all(r.ok for r in results), [r for r in results if not r.ok][:1]
    assert store.verify_audit().checked == 300


def test_two_people_locking_one_environment_at_once_one_holds_it(store):
    from opsgate.domain.lock import Lock

    def take(i: int) -> str:
        with store.transaction() as tx:
            tx.put_lock(Lock("prod", f"person{i}", f"Person {i}", "release", T0, T0 + timedelta(hours=1)), T0)
        return f"person{i}"

    results = run_together(2, take)
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1 and sum(isinstance(r, ConflictError) for r in results) == 1
    with store.transaction() as tx:
        assert tx.active_lock("prod", T0).holder_id == winners[0]
