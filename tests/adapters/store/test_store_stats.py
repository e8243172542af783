"""The value numbers' queries on SQLite and PostgreSQL: requests by command, person and state;
approval waits; and `read_stats` putting every query of one period together."""

from __future__ import annotations

from datetime import timedelta

from store_samples import T0, make_entry, make_request

from opsgate.core.stats import read_stats
from opsgate.domain.request import ApprovalRecord, State

HOUR = timedelta(hours=1)


def put(store, *records) -> None:
    with store.transaction() as tx:
        for record in records:
            tx.insert_request(record)


def approve(store, request_id: str, approver: str, at) -> None:
    with store.transaction() as tx:
        tx.add_approval(ApprovalRecord(request_id, approver, approver.title(), "b" * 64, "sre", at))


def test_requests_are_counted_by_command_person_and_state_within_the_period(store):
    put(store,
        make_request("r-00000001", state=State.SUCCEEDED),
        make_request("r-00000002", state=State.SUCCEEDED, created_at=T0 + HOUR),
        make_request("r-00000003", state=State.DENIED, requester_id="bob", requester_name="Bob"),
        make_request("r-00000004", state=State.SUCCEEDED, command="restart"),
        make_request("r-00000005", state=State.SUCCEEDED, created_at=T0 - HOUR),  # before the period
        make_request("r-00000006", state=State.SUCCEEDED, created_at=T0 + 2 * HOUR))  # at its end: excluded
    with store.transaction() as tx:
        use = tx.request_use(T0, T0 + 2 * HOUR)
    assert use == [("deploy", "alice", "succeeded", 2), ("deploy", "bob", "denied", 1),
                   ("restart", "alice", "succeeded", 1)]


def test_an_approval_wait_runs_from_the_request_to_the_approval_that_completed_its_count(store):
    put(store,
        make_request("r-00000001", state=State.SUCCEEDED),
        make_request("r-00000002", state=State.SUCCEEDED, approvals_required=2),
        make_request("r-00000003", state=State.AWAITING_APPROVAL, approvals_required=2),  # one of two so far
        make_request("r-00000004", state=State.DENIED))  # denied: no approval at all
    approve(store, "r-00000001", "carol", T0 + timedelta(minutes=5))
    approve(store, "r-00000002", "carol", T0 + timedelta(minutes=3))
    approve(store, "r-00000002", "dave", T0 + timedelta(minutes=20))
    approve(store, "r-00000003", "carol", T0 + timedelta(minutes=1))
    with store.transaction() as tx:
        assert tx.approval_waits_s(T0, T0 + HOUR) == [300.0, 1200.0]
        assert tx.approval_waits_s(T0 + timedelta(minutes=10), T0 + HOUR) == [1200.0]  # completed in the period
        assert tx.approval_waits_s(T0 + HOUR, T0 + 2 * HOUR) == []


def test_read_stats_puts_the_period_together_from_requests_approvals_and_the_audit_log(store):
    put(store, make_request("r-00000001", state=State.SUCCEEDED),
        make_request("r-00000002", state=State.DENIED, requester_id="bob", requester_name="Bob", approvals_required=0,
                     decision_rule="role"))
    approve(store, "r-00000001", "carol", T0 + timedelta(minutes=2))
    with store.transaction() as tx:
        tx.append_audit(make_entry(1, decision="deny", rule="role", outcome="denied"), T0)  # refused at once
        tx.append_audit(make_entry(2, decision="approve", outcome="awaiting_approval"), T0)  # not a refusal
        tx.append_audit(make_entry(3, event="request.rejected", decision="deny", rule="parse", request_id=None), T0)
        tx.append_audit(make_entry(4, event="approval.refused", rule="approval.self", decision=None), T0)
        tx.append_audit(make_entry(5, event="delivery.refused", rule="delivery.verify"), T0)  # forged: not counted
        tx.append_audit(make_entry(6, event="request.rejected", rule="parse"), T0 - HOUR)  # before the period
    with store.transaction() as tx:
        stats = read_stats(tx, T0, T0 + HOUR)
    assert stats.requests == 2 and stats.by_person == (("alice", 1), ("bob", 1))
    assert stats.refusals_by_rule == (("approval.self", 1), ("parse", 1), ("role", 1))
    assert (stats.time_to_approve.count, stats.time_to_approve.p50_s) == (1, 120.0)
    assert stats.incidents == 0 and stats.events_received == 0 and stats.noise_removed is None
