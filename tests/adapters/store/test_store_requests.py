"""Requests: stored and read back unchanged, moved only from the state the writer expects."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from store_samples import T0, make_request

from opsgate.adapters.store.tables import requests
from opsgate.domain.request import RequestRecord, State
from opsgate.errors import ConflictError, StoreError


def test_requests_table_has_a_column_for_every_record_field():
    assert [c.name for c in requests.columns] == [f.name for f in dataclasses.fields(RequestRecord)]


def test_request_round_trips_with_every_field_set(store):
    berlin = ZoneInfo("Europe/Berlin")
    record = make_request(
        params={"service": "api", "replicas": 3, "force": True, "note": "naïve ✓"},
        created_at=T0.astimezone(berlin),
        updated_at=T0.astimezone(berlin) + timedelta(microseconds=123456),
        link="https://tickets.example.com/OPS-1",
        dry_run=True,
        break_glass_reason="prod down",
        confirm_text="deploy api to prod",
        approvals_required=2,
        approver_roles=("sre", "lead"),
        thread="1717400000.000100",
        result={"summary": "ok", "calls": [1, 2]},
        error="boom",
    )
    with store.transaction() as tx:
        tx.insert_request(record)
    with store.transaction() as tx:
        loaded = tx.get_request(record.id)
    assert loaded == record


def test_datetimes_come_back_timezone_aware_in_utc(store):
    with store.transaction() as tx:
        tx.insert_request(make_request(created_at=T0.astimezone(ZoneInfo("America/New_York"))))
    with store.transaction() as tx:
        loaded = tx.get_request("r-0000abcd")
    assert loaded is not None
    for value in (loaded.created_at, loaded.updated_at, loaded.expires_at):
        assert value is not None and value.tzinfo == timezone.utc
    assert loaded.created_at == T0


def test_naive_datetimes_are_refused(store):
    with pytest.raises(StoreError, match="naive datetime"):
        with store.transaction() as tx:
            tx.insert_request(make_request(created_at=T0.replace(tzinfo=None)))


def test_missing_request_reads_as_none(store):
    with store.transaction() as tx:
        assert tx.get_request("r-missing0") is None
        assert tx.get_request("r-missing0", for_update=True) is None


def test_update_writes_when_the_state_is_as_expected(store):
    record = make_request()
    with store.transaction() as tx:
        tx.insert_request(record)
        approved = record.moved(State.APPROVED, T0 + timedelta(minutes=5), result={"by": "bob"})
        tx.update_request(approved, expected_state=State.AWAITING_APPROVAL)
    with store.transaction() as tx:
        assert tx.get_request(record.id) == approved


def test_update_from_a_state_the_request_has_left_is_a_conflict(store):
    record = make_request()
    with store.transaction() as tx:
        tx.insert_request(record)
        tx.update_request(record.moved(State.CANCELLED, T0), expected_state=State.AWAITING_APPROVAL)
    with pytest.raises(ConflictError, match="r-0000abcd is no longer awaiting_approval"):
        with store.transaction() as tx:
            tx.update_request(record.moved(State.APPROVED, T0), expected_state=State.AWAITING_APPROVAL)
    with store.transaction() as tx:
        assert tx.get_request(record.id).state is State.CANCELLED


def test_update_of_a_missing_request_is_a_conflict(store):
    with pytest.raises(ConflictError):
        with store.transaction() as tx:
            tx.update_request(make_request(state=State.APPROVED), expected_state=State.AWAITING_APPROVAL)


def test_a_failed_transaction_writes_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.insert_request(make_request())
            raise RuntimeError("the caller failed half-way")
    with store.transaction() as tx:
        assert tx.get_request("r-0000abcd") is None


def test_inserting_the_same_id_twice_is_a_store_error(store):
    with store.transaction() as tx:
        tx.insert_request(make_request())
    with pytest.raises(StoreError, match="database refused the write"):
        with store.transaction() as tx:
            tx.insert_request(make_request())


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def test_list_requests_newest_first_filtered_by_state_and_requester(store):
    with store.transaction() as tx:
        tx.insert_request(make_request("r-00000001", created_at=minutes(0)))
        tx.insert_request(make_request("r-00000002", created_at=minutes(1), state=State.RUNNING))
        tx.insert_request(make_request("r-00000003", created_at=minutes(2), requester_id="bob"))
        tx.insert_request(make_request("r-00000004", created_at=minutes(3)))
    with store.transaction() as tx:
        assert [r.id for r in tx.list_requests()] == ["r-00000004", "r-00000003", "r-00000002", "r-00000001"]
        assert [r.id for r in tx.list_requests(limit=2)] == ["r-00000004", "r-00000003"]
        assert [r.id for r in tx.list_requests(states=(State.RUNNING,))] == ["r-00000002"]
        assert [r.id for r in tx.list_requests(requester_id="bob")] == ["r-00000003"]
        pending_alice = tx.list_requests(states=(State.AWAITING_APPROVAL,), requester_id="alice")
        assert [r.id for r in pending_alice] == ["r-00000004", "r-00000001"]


def test_expiring_requests_are_pending_ones_past_their_expiry(store):
    with store.transaction() as tx:
        tx.insert_request(make_request("r-00000001", expires_at=minutes(0)))
        tx.insert_request(make_request("r-00000002", expires_at=minutes(-1), state=State.AWAITING_CONFIRMATION))
        tx.insert_request(make_request("r-00000003", expires_at=minutes(0) + timedelta(seconds=1)))
        tx.insert_request(make_request("r-00000004", expires_at=minutes(-60), state=State.APPROVED))
        tx.insert_request(make_request("r-00000005", expires_at=None))
    with store.transaction() as tx:
        assert [r.id for r in tx.expiring_requests(T0)] == ["r-00000002", "r-00000001"]


def test_count_requests_counts_one_persons_command_since_a_time(store):
    with store.transaction() as tx:
        for n in range(5):
            tx.insert_request(make_request(f"r-0000000{n}", created_at=minutes(n)))
        tx.insert_request(make_request("r-00000010", created_at=minutes(4), command="restart"))
        tx.insert_request(make_request("r-00000011", created_at=minutes(4), requester_id="bob"))
    with store.transaction() as tx:
        assert tx.count_requests("alice", "deploy", minutes(2)) == 3
        assert tx.count_requests("alice", "deploy", T0) == 5
        assert tx.count_requests("alice", "restart", T0) == 1
        assert tx.count_requests("carol", "deploy", T0) == 0
