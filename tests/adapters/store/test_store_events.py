"""Received events on SQLite and PostgreSQL: stored once per sender id, claimed oldest first under a
lease, marked processed (and kept), counted; concurrent claimers never share an event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_samples import T0, claims_meanwhile, run_together

from opsgate.ports import StoredEvent

LEASE_S = 60


def add(store, external_id: str, *, source: str = "sns", body: dict | None = None, at=T0) -> bool:
    with store.transaction() as tx:
        return tx.event_add(source, external_id, body if body is not None else {"n": external_id}, at)


def claim(store, *, at=T0, limit: int = 10) -> list[StoredEvent]:
    with store.transaction() as tx:
        return tx.events_claim(at, limit=limit, lease_s=LEASE_S)


def done(store, event: StoredEvent, outcome: str = "alert", *, at=T0) -> None:
    with store.transaction() as tx:
        tx.event_processed(event.id, outcome, at)


def ids(events: list[StoredEvent]) -> list[str]:
    return [event.external_id for event in events]


def test_a_stored_event_is_claimed_with_what_was_received(store):
    body = {"Type": "Notification", "Message": "{\"AlarmName\": \"cpu\"}", "nested": {"ü": [1, 2.5, None]}}
    assert add(store, "m-1", body=body) is True
    [event] = claim(store)
    assert (event.source, event.external_id, event.received_at, event.body) == ("sns", "m-1", T0, body)
    assert isinstance(event.id, int)


def test_the_same_sender_id_is_stored_once_and_the_first_body_kept(store):
    assert add(store, "m-1", body={"first": True}) is True
    assert add(store, "m-1", body={"second": True}, at=T0 + timedelta(minutes=5)) is False
    [event] = claim(store)
    assert event.body == {"first": True}


def test_the_same_id_from_another_source_is_another_event(store):
    assert add(store, "abc", source="sns") is True
    assert add(store, "abc", source="webhook:grafana") is True
    assert sorted(event.source for event in claim(store)) == ["sns", "webhook:grafana"]


def test_a_replay_of_a_processed_event_is_still_refused(store):
    add(store, "m-1")
    [event] = claim(store)
    done(store, event)
    assert add(store, "m-1", at=T0 + timedelta(days=1)) is False
    assert claim(store, at=T0 + timedelta(days=1)) == []


def test_events_are_claimed_oldest_first_up_to_the_limit(store):
    for n in range(5):
        add(store, f"m-{n}")
    assert ids(claim(store, limit=3)) == ["m-0", "m-1", "m-2"]
    assert ids(claim(store, limit=3)) == ["m-3", "m-4"]
    assert claim(store) == []


def test_a_claimed_event_comes_back_when_its_lease_runs_out(store):
    add(store, "m-1")
    assert ids(claim(store)) == ["m-1"]
    assert claim(store, at=T0 + timedelta(seconds=LEASE_S - 1)) == []
    assert ids(claim(store, at=T0 + timedelta(seconds=LEASE_S))) == ["m-1"]  # the processor died: again


def test_a_processed_event_is_never_claimed_again(store):
    add(store, "m-1")
    [event] = claim(store)
    done(store, event, at=T0 + timedelta(seconds=1))
    assert claim(store, at=T0 + timedelta(hours=1)) == []


def test_the_first_outcome_stands_and_long_outcomes_are_cut(store):
    from opsgate.adapters.store.tables_events import events

    add(store, "m-1")
    [event] = claim(store)
    done(store, event, "error: " + "x" * 5000, at=T0 + timedelta(seconds=1))
    done(store, event, "alert", at=T0 + timedelta(seconds=2))  # a second processor, lease expired
    with store.engine.connect() as conn:
        row = conn.execute(events.select()).one()
    assert row.outcome.startswith("error: ") and len(row.outcome) == 2000
    assert row.processed_at == T0 + timedelta(seconds=1) and row.leased_until is None


def test_events_are_counted_by_source_in_the_period(store):
    add(store, "a", source="sns", at=T0 - timedelta(seconds=1))
    add(store, "b", source="sns", at=T0)
    add(store, "c", source="sns", at=T0 + timedelta(minutes=30))
    add(store, "d", source="eventbridge", at=T0 + timedelta(minutes=59))
    add(store, "e", source="eventbridge", at=T0 + timedelta(hours=1))
    [first, *_] = claim(store)
    done(store, first)  # processed events still count: received is received
    with store.transaction() as tx:
        assert tx.events_count(T0, T0 + timedelta(hours=1)) == {"sns": 2, "eventbridge": 1}
        assert tx.events_count(T0 + timedelta(days=1), T0 + timedelta(days=2)) == {}


def test_an_event_added_in_a_rolled_back_transaction_is_not_stored(store):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert tx.event_add("sns", "m-1", {}, T0) is True
        raise RuntimeError("the rest of the transaction failed")
    assert add(store, "m-1") is True


def test_concurrent_deliveries_of_one_id_store_it_once(store):
    results = run_together(4, lambda i: add(store, "m-1", body={"copy": i}))
    assert sorted(results) == [False, False, False, True]
    assert len(claim(store)) == 1


def test_concurrent_claimers_never_get_the_same_event(store):
    for n in range(60):
        add(store, f"m-{n:02d}")

    def processor(_: int) -> list[str]:
        got: list[str] = []
        for _ in range(15):
            events = claim(store, limit=3)
            with store.transaction() as tx:
                for event in events:
                    tx.event_processed(event.id, "generic", T0)
            got += ids(events)
        return got

    results = run_together(4, processor)
    processed = [external_id for result in results for external_id in result]
    assert sorted(processed) == [f"m-{n:02d}" for n in range(60)]  # every event once, none twice


def test_a_postgres_claimer_skips_events_another_is_claiming(postgres_store):
    add(postgres_store, "m-1")
    add(postgres_store, "m-2")
    held, other = claims_meanwhile(postgres_store, lambda tx: tx.events_claim(T0, limit=1, lease_s=LEASE_S))
    assert ids(held) == ["m-1"] and ids(other) == ["m-2"]


def test_a_batch_is_stored_in_one_statement_and_says_which_events_are_new(store):
    add(store, "m-2")  # stored before the batch
    with store.transaction() as tx:
        added = tx.events_add([("sns", "m-1", {"n": 1}), ("sns", "m-2", {"n": 2}), ("sns", "m-1", {"n": "again"}),
                               ("webhook:ci", "m-1", {"n": 3}), ("sns", "m-3", {"n": 4})], T0)
        assert tx.events_add([], T0) == []
    assert added == [True, False, False, True, True]  # the first of an id within the batch wins
    bodies = {(event.source, event.external_id): event.body for event in claim(store)}
    assert bodies == {("sns", "m-2"): {"n": "m-2"}, ("sns", "m-1"): {"n": 1}, ("webhook:ci", "m-1"): {"n": 3},
                      ("sns", "m-3"): {"n": 4}}


def test_pruning_deletes_old_processed_events_a_batch_at_a_time_and_never_unprocessed_ones(store):
    for n in range(5):
        add(store, f"old-{n}", at=T0)
    add(store, "new", at=T0 + timedelta(days=40))
    for event in claim(store, at=T0 + timedelta(days=40), limit=4):  # old-0 .. old-3 processed; old-4 is not
        done(store, event, at=T0 + timedelta(days=40))
    cutoff = T0 + timedelta(days=10)
    with store.transaction() as tx:
        assert tx.events_prune(cutoff, limit=3) == 3  # the oldest first
        assert tx.events_prune(cutoff, limit=3) == 1
        assert tx.events_prune(cutoff, limit=3) == 0
    assert [e.external_id for e in claim(store, at=T0 + timedelta(days=41), limit=10)] == ["old-4", "new"]
    assert add(store, "old-0") is True  # gone: the same id would be stored again (hence a 14-day floor)
