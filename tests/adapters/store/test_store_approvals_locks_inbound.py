"""Approvals (one per person and request), environment locks and inbound idempotency keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_samples import T0, make_request

from opsgate.domain.lock import Lock
from opsgate.domain.request import ApprovalRecord
from opsgate.errors import ConflictError


def approval(approver_id: str = "bob", *, minutes: int = 1) -> ApprovalRecord:
    return ApprovalRecord(
        request_id="r-0000abcd",
        approver_id=approver_id,
        approver_name=approver_id.title(),
        binding="b" * 64,
        role="sre",
        at=T0 + timedelta(minutes=minutes),
    )


def lock(holder_id: str = "alice", *, taken_at=T0, ttl=timedelta(hours=1)) -> Lock:
    return Lock("prod", holder_id, holder_id.title(), "release 42", taken_at, taken_at + ttl)


# -- approvals ---------------------------------------------------------------------------------


def test_approvals_round_trip_in_the_order_given(store):
    with store.transaction() as tx:
        tx.insert_request(make_request())
        tx.add_approval(approval("carol", minutes=2))
        tx.add_approval(approval("bob", minutes=1))
    with store.transaction() as tx:
        assert tx.approvals("r-0000abcd") == [approval("bob", minutes=1), approval("carol", minutes=2)]
        assert tx.approvals("r-other000") == []


def test_approving_twice_is_a_conflict_and_keeps_the_first(store):
    with store.transaction() as tx:
        tx.insert_request(make_request())
        tx.add_approval(approval("bob", minutes=1))
    with store.transaction() as tx:
        with pytest.raises(ConflictError, match="bob has already approved request r-0000abcd"):
            tx.add_approval(approval("bob", minutes=3))
        # The conflict did not spoil the transaction: the caller can go on and reply.
        assert tx.approvals("r-0000abcd") == [approval("bob", minutes=1)]


# -- locks -------------------------------------------------------------------------------------


def test_lock_round_trips_and_is_active_until_it_expires(store):
    with store.transaction() as tx:
        tx.put_lock(lock(), T0)
    with store.transaction() as tx:
        assert tx.active_lock("prod", T0) == lock()
        assert tx.active_locks(T0) == [lock()]
        assert tx.active_lock("prod", T0 + timedelta(hours=1)) is None
        assert tx.active_locks(T0 + timedelta(hours=1)) == []
        assert tx.active_lock("staging", T0) is None


def test_another_person_cannot_take_an_active_lock(store):
    with store.transaction() as tx:
        tx.put_lock(lock("alice"), T0)
    with pytest.raises(ConflictError, match=r"prod is locked by Alice \(alice\) until 2024-06-03 10:30 UTC"):
        with store.transaction() as tx:
            tx.put_lock(lock("bob", taken_at=T0 + timedelta(minutes=5)), T0 + timedelta(minutes=5))
    with store.transaction() as tx:
        assert tx.active_lock("prod", T0).holder_id == "alice"


def test_the_holder_renews_their_own_lock(store):
    renewed = lock("alice", taken_at=T0 + timedelta(minutes=30), ttl=timedelta(hours=2))
    with store.transaction() as tx:
        tx.put_lock(lock("alice"), T0)
        tx.put_lock(renewed, T0 + timedelta(minutes=30))
    with store.transaction() as tx:
        assert tx.active_lock("prod", T0 + timedelta(minutes=30)) == renewed


def test_an_expired_lock_is_replaced_by_another_person(store):
    later = T0 + timedelta(hours=1)  # the first lock expires exactly now
    with store.transaction() as tx:
        tx.put_lock(lock("alice"), T0)
        tx.put_lock(lock("bob", taken_at=later), later)
    with store.transaction() as tx:
        assert tx.active_lock("prod", later) == lock("bob", taken_at=later)


def test_delete_lock_frees_the_environment(store):
    with store.transaction() as tx:
        tx.put_lock(lock("alice"), T0)
        tx.delete_lock("prod")
        tx.delete_lock("staging")  # nothing there: no error
        assert tx.active_lock("prod", T0) is None
        tx.put_lock(lock("bob"), T0)
        assert tx.active_lock("prod", T0).holder_id == "bob"


# -- inbound -----------------------------------------------------------------------------------


def test_an_inbound_key_is_claimed_once(store):
    with store.transaction() as tx:
        assert tx.claim_inbound("slack:1717400000.000100", T0) is True
    with store.transaction() as tx:
        assert tx.claim_inbound("slack:1717400000.000100", T0 + timedelta(seconds=3)) is False
        assert tx.claim_inbound("slack:1717400000.000200", T0) is True


def test_the_reply_to_an_inbound_key_is_kept_for_retries(store):
    with store.transaction() as tx:
        tx.claim_inbound("k1", T0)
        assert tx.inbound_reply("k1") == (None, None)
        tx.save_inbound_reply("k1", "Request r-0000abcd is waiting for approval", "r-0000abcd")
        tx.claim_inbound("k2", T0)
        tx.save_inbound_reply("k2", "Unknown command", None)
    with store.transaction() as tx:
        assert tx.inbound_reply("k1") == ("Request r-0000abcd is waiting for approval", "r-0000abcd")
        assert tx.inbound_reply("k2") == ("Unknown command", None)
        assert tx.inbound_reply("never-seen") == (None, None)
