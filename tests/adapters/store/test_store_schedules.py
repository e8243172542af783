"""The scheduler's tables on SQLite and PostgreSQL: the lease (one holder, renewal, expiry, release,
racing replicas), scheduled checks' state (conditional writes) and reminders (claims that no two
callers share, claims that run out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_samples import T0, run_together

from opsgate.domain.schedule import CheckState, Reminder, ReminderState
from opsgate.errors import ConflictError

TTL_S = 30


def acquire(store, holder: str, at, ttl_s: float = TTL_S, name: str = "scheduler") -> bool:
    with store.transaction() as tx:
        return tx.lease_acquire(name, holder, at, ttl_s)


def holder(store, at, name: str = "scheduler") -> str | None:
    with store.transaction() as tx:
        return tx.lease_holder(name, at)


# -- the lease ------------------------------------------------------------------------------------

def test_the_first_caller_takes_the_lease_and_others_are_refused_while_it_runs(store):
    assert acquire(store, "a", T0)
    assert not acquire(store, "b", T0 + timedelta(seconds=TTL_S - 1))
    assert holder(store, T0 + timedelta(seconds=TTL_S - 1)) == "a"


def test_the_holder_renews_and_keeps_it(store):
    assert acquire(store, "a", T0)
    assert acquire(store, "a", T0 + timedelta(seconds=20))  # renewed: runs until +50
    assert not acquire(store, "b", T0 + timedelta(seconds=45))
    assert holder(store, T0 + timedelta(seconds=45)) == "a"


def test_an_expired_lease_goes_to_the_next_caller(store):
    assert acquire(store, "a", T0)
    assert holder(store, T0 + timedelta(seconds=TTL_S)) is None
    assert acquire(store, "b", T0 + timedelta(seconds=TTL_S))
    assert not acquire(store, "a", T0 + timedelta(seconds=TTL_S + 1))  # the old holder cannot renew it back
    assert holder(store, T0 + timedelta(seconds=TTL_S + 1)) == "b"


def test_release_frees_it_at_once_but_only_for_its_holder(store):
    assert acquire(store, "a", T0)
    with store.transaction() as tx:
        tx.lease_release("scheduler", "b")  # not b's to give up
    assert not acquire(store, "b", T0 + timedelta(seconds=1))
    with store.transaction() as tx:
        tx.lease_release("scheduler", "a")
    assert acquire(store, "b", T0 + timedelta(seconds=1))


def test_leases_are_independent_by_name(store):
    assert acquire(store, "a", T0, name="scheduler")
    assert acquire(store, "b", T0, name="other")


@pytest.mark.parametrize("expired", [False, True], ids=["fresh", "after-expiry"])
def test_replicas_racing_for_the_lease_one_wins(store, expired):
    if expired:
        assert acquire(store, "old", T0 - timedelta(seconds=TTL_S + 5))
    results = run_together(8, lambda i: acquire(store, f"replica-{i}", T0))
    assert sum(r is True for r in results) == 1, results
    assert holder(store, T0) == f"replica-{results.index(True)}"


# -- scheduled checks' state ----------------------------------------------------------------------

def test_check_state_is_written_once_then_moved_only_from_the_fire_time_read(store):
    first = CheckState("prod-alarms", T0)
    with store.transaction() as tx:
        assert tx.check_state("prod-alarms") is None
        assert tx.check_state_save(first, previous_fire_at=None)
        assert not tx.check_state_save(first, previous_fire_at=None)  # a second "first" loses
    later = CheckState("prod-alarms", T0 + timedelta(minutes=15), "f" * 64, "r-00000001", T0 + timedelta(minutes=15))
    with store.transaction() as tx:
        assert tx.check_state_save(later, previous_fire_at=T0)
        assert not tx.check_state_save(replace(later, last_hash="0" * 64), previous_fire_at=T0)  # stale read
        assert tx.check_state("prod-alarms") == later


# -- reminders ------------------------------------------------------------------------------------

def reminder(n: int, due_in_s: int = 0, **changes) -> Reminder:
    return replace(Reminder(id=f"rem-{n:08d}", channel="C0OPS", text=f"reminder {n}", due_at=T0 + timedelta(seconds=due_in_s),
                            created_by="alice", created_by_name="Alice", created_at=T0 - timedelta(hours=1)), **changes)


def test_a_reminder_round_trips(store):
    with store.transaction() as tx:
        tx.reminder_add(reminder(1, thread="1700000000.000100"))
        assert tx.reminder_get("rem-00000001") == reminder(1, thread="1700000000.000100")
        assert tx.reminder_get("rem-nothere") is None


def test_only_due_pending_reminders_are_claimed_soonest_first(store):
    with store.transaction() as tx:
        for n, due in ((1, 60), (2, -10), (3, 0), (4, -20)):
            tx.reminder_add(reminder(n, due))
        tx.reminder_add(reminder(5, -30, state=ReminderState.CANCELLED))
    with store.transaction() as tx:
        claimed = tx.reminders_claim_due(T0, limit=10, lease_s=120)
    assert [r.id for r in claimed] == ["rem-00000004", "rem-00000002", "rem-00000003"]
    assert all(r.state is ReminderState.SENDING and r.attempts == 1 and r.claimed_until == T0 + timedelta(seconds=120)
               for r in claimed)
    with store.transaction() as tx:
        assert tx.reminders_claim_due(T0 + timedelta(seconds=60), limit=10, lease_s=120) == [
            replace(reminder(1, 60), state=ReminderState.SENDING, attempts=1,
                    claimed_until=T0 + timedelta(seconds=180))]
        stored = tx.reminder_get("rem-00000004")
    assert stored.state is ReminderState.SENDING and stored.attempts == 1


def test_a_claim_that_runs_out_is_claimed_again_with_one_more_attempt(store):
    with store.transaction() as tx:
        tx.reminder_add(reminder(1))
    with store.transaction() as tx:
        [first] = tx.reminders_claim_due(T0, limit=10, lease_s=120)
    with store.transaction() as tx:
        assert tx.reminders_claim_due(T0 + timedelta(seconds=119), limit=10, lease_s=120) == []
        [again] = tx.reminders_claim_due(T0 + timedelta(seconds=120), limit=10, lease_s=120)
    assert (first.attempts, again.attempts) == (1, 2)


def test_a_reminder_moves_only_from_the_state_read(store):
    with store.transaction() as tx:
        tx.reminder_add(reminder(1))
    with store.transaction() as tx:
        tx.reminder_update(reminder(1, state=ReminderState.CANCELLED, cancelled_by="alice"),
                           expected_state=ReminderState.PENDING)
    with store.transaction() as tx, pytest.raises(ConflictError, match="no longer pending"):
        tx.reminder_update(reminder(1, state=ReminderState.SENT), expected_state=ReminderState.PENDING)


def test_listing_filters_by_state_and_person(store):
    with store.transaction() as tx:
        tx.reminder_add(reminder(1, 30))
        tx.reminder_add(reminder(2, 10, created_by="bob"))
        tx.reminder_add(reminder(3, 20, state=ReminderState.SENT))
        assert [r.id for r in tx.reminders_list(states=(ReminderState.PENDING,))] == ["rem-00000002", "rem-00000001"]
        assert [r.id for r in tx.reminders_list(states=(ReminderState.PENDING,), created_by="alice")] == ["rem-00000001"]
        assert len(tx.reminders_list(states=(ReminderState.PENDING, ReminderState.SENT), limit=2)) == 2


def test_replicas_claiming_at_once_never_share_a_reminder(store):
    with store.transaction() as tx:
        for n in range(40):
            tx.reminder_add(reminder(n, -n))

    def claim(_: int) -> list[str]:
        taken: list[str] = []
        while True:
            with store.transaction() as tx:
                batch = tx.reminders_claim_due(T0, limit=3, lease_s=120)
            if not batch:
                return taken
            taken += [r.id for r in batch]

    results = run_together(4, claim)
    everything = [rid for taken in results for rid in taken]
    assert sorted(everything) == sorted(f"rem-{n:08d}" for n in range(40))  # each claimed exactly once
