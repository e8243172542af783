"""Incidents, roles and timelines in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from store_samples import T0, run_together

from opsgate.domain.incident import Incident, IncidentTimes, RoleHolder, RoomKind, Status, TimelineEntry


def incident(number: int, **changes) -> Incident:
    base = Incident(id=f"inc-{number}", number=number, title=f"Incident {number}", severity="2",
                    status=Status.DECLARED, declared_by="alice", declared_by_name="Alice",
                    declared_at=T0 + timedelta(hours=number), updated_at=T0 + timedelta(hours=number))
    return replace(base, **changes)


def test_an_incident_round_trips_with_every_field(store):
    full = incident(1, room=RoomKind.THREAD, channel="C0INC", thread="1700000000.000100", room_name="a thread",
                    status=Status.RESOLVED, acknowledged_at=T0 + timedelta(hours=1, minutes=3),
                    mitigated_at=T0 + timedelta(hours=1, minutes=40), resolved_at=T0 + timedelta(hours=2),
                    ticket_url="https://jira.example.com/browse/OPS-1", environment="prod")
    with store.transaction() as tx:
        assert tx.incident_next_number() == 1
        assert tx.incident_insert(full)
    with store.transaction() as tx:
        assert tx.incident_get("inc-1") == full
        assert tx.incident_get("inc-2") is None
        assert tx.incident_next_number() == 2


def test_a_taken_number_is_refused_without_breaking_the_transaction(store):
    with store.transaction() as tx:
        assert tx.incident_insert(incident(1))
        assert not tx.incident_insert(replace(incident(1), id="inc-1b"))  # same number, another id
        assert tx.incident_insert(incident(2))
    with store.transaction() as tx:
        assert [i.id for i in tx.incidents_list(open_only=False)] == ["inc-2", "inc-1"]


def test_replicas_taking_numbers_at_once_each_get_their_own(postgres_store):
    def declare(i: int) -> str:
        with postgres_store.transaction() as tx:
            for _ in range(20):
                number = tx.incident_next_number()
                if tx.incident_insert(replace(incident(number), title=f"from {i}")):
                    return f"inc-{number}"
        raise AssertionError("no number")

    ids = run_together(6, declare)
    assert sorted(ids) == [f"inc-{n}" for n in range(1, 7)]


def test_updates_are_written(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1))
    changed = replace(incident(1), status=Status.MITIGATED, mitigated_at=T0 + timedelta(hours=2),
                      acknowledged_at=T0 + timedelta(hours=1, minutes=5), updated_at=T0 + timedelta(hours=2))
    with store.transaction() as tx:
        tx.incident_update(changed)
    with store.transaction() as tx:
        assert tx.incident_get("inc-1", for_update=True) == changed


def test_a_room_is_found_by_channel_or_by_thread(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1, room=RoomKind.CHANNEL, channel="C0ROOM1"))
        tx.incident_insert(incident(2, room=RoomKind.THREAD, channel="C0INC", thread="1.1"))
        tx.incident_insert(incident(3, room=RoomKind.THREAD, channel="C0INC", thread="2.2", status=Status.RESOLVED))
        tx.incident_insert(incident(4, room=RoomKind.NONE))
    with store.transaction() as tx:
        assert tx.incident_in_room("C0ROOM1", None).id == "inc-1"
        assert tx.incident_in_room("C0ROOM1", "9.9").id == "inc-1"  # any thread of a dedicated channel
        assert tx.incident_in_room("C0INC", "1.1").id == "inc-2"
        assert tx.incident_in_room("C0INC", None) is None  # the incidents channel itself is nobody's room
        assert tx.incident_in_room("C0INC", "2.2") is None  # resolved
        assert tx.incident_in_room("C0INC", "2.2", open_only=False).id == "inc-3"
        assert tx.incident_channel_known("C0INC") and not tx.incident_channel_known("C0OTHER")
        assert [i.id for i in tx.incidents_list()] == ["inc-4", "inc-2", "inc-1"]


def test_roles_are_replaced_per_role(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1))
        tx.incident_set_role("inc-1", RoleHolder("commander", "alice", "Alice", T0, "alice"))
        tx.incident_set_role("inc-1", RoleHolder("operations", "bob", "Bob", T0, "alice"))
        tx.incident_set_role("inc-1", RoleHolder("commander", "carol", "Carol", T0 + timedelta(minutes=5), "alice"))
    with store.transaction() as tx:
        held = {h.role: h for h in tx.incident_roles("inc-1")}
    assert held == {"commander": RoleHolder("commander", "carol", "Carol", T0 + timedelta(minutes=5), "alice"),
                    "operations": RoleHolder("operations", "bob", "Bob", T0, "alice")}


def test_the_timeline_is_in_time_order_and_a_dedupe_key_is_written_once(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1))
        first = TimelineEntry("inc-1", T0 + timedelta(minutes=5), "update", "second", "bob", "Bob")
        assert tx.incident_timeline_add(first)
        assert tx.incident_timeline_add(TimelineEntry("inc-1", T0, "declared", "first", "alice", "Alice"))
        pin = TimelineEntry("inc-1", T0 + timedelta(minutes=1), "pin", "said", "bob", "Bob", ref="C1/1.1",
                            dedupe="pin:inc-1:C1:1.1")
        assert tx.incident_timeline_add(pin)
        assert not tx.incident_timeline_add(replace(pin, text="again"))
        assert tx.incident_timeline_add(replace(first, text="same time, later"))
    with store.transaction() as tx:
        timeline = tx.incident_timeline("inc-1")
    assert [e.text for e in timeline] == ["first", "said", "second", "same time, later"]
    assert timeline[1].ref == "C1/1.1" and timeline[1].id > 0


def test_incident_times_cover_the_incidents_declared_in_the_period(store):
    with store.transaction() as tx:
        for n in (1, 2, 3):
            tx.incident_insert(incident(n, acknowledged_at=T0 + timedelta(hours=n, minutes=n)))
        tx.incident_update(incident(2, status=Status.RESOLVED, acknowledged_at=T0 + timedelta(hours=2, minutes=2),
                                    mitigated_at=T0 + timedelta(hours=2, minutes=30),
                                    resolved_at=T0 + timedelta(hours=3)))
    with store.transaction() as tx:
        times = tx.incident_times(T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    assert times == [IncidentTimes("inc-2", "2", T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=2),
                                   T0 + timedelta(hours=2, minutes=30), T0 + timedelta(hours=3))]
    assert times[0].seconds_to("acknowledged") == 120 and times[0].seconds_to("resolved") == 3600


def test_alert_groups_are_tied_once_and_read_back_by_incident(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1))
        tx.incident_insert(incident(2))
        assert tx.incident_link_group("inc-1", "g-aaaaaaaa", "alice", T0)
        assert not tx.incident_link_group("inc-1", "g-aaaaaaaa", "bob", T0)  # tied already: nothing written
        assert tx.incident_link_group("inc-2", "g-aaaaaaaa", "alice", T0)
        assert tx.incident_link_group("inc-2", "g-bbbbbbbb", "alice", T0)
    with store.transaction() as tx:
        assert tx.incident_linked_groups(["inc-1", "inc-2"]) == {"g-aaaaaaaa": {"inc-1", "inc-2"},
                                                                 "g-bbbbbbbb": {"inc-2"}}
        assert tx.incident_linked_groups(["inc-1"]) == {"g-aaaaaaaa": {"inc-1"}}
        assert tx.incident_linked_groups([]) == {}
