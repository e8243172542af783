"""Scheduled checks driven by the fake clock: a cron schedule runs its read command as the service
identity through the dispatcher, posts only when the result changes, coalesces missed fire times,
and runs a fire time once even when two processes handle it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from opsgate.domain.request import State
from opsgate.domain.schedule import CheckState
from tests.adapters.store.store_samples import run_together
from tests.core.scheduling_world import NOW, World


@pytest.fixture
def world(database_url):
    world = World(database_url)
    yield world
    world.store.close()


def at(world: World, minutes: float) -> None:
    world.clock.set(NOW + timedelta(minutes=minutes))


def test_the_first_tick_starts_the_count_and_the_next_fire_time_runs_it(world):
    assert world.checks.run_due() == 0  # 09:00: first seen, nothing runs yet
    at(world, 14.99)
    assert world.checks.run_due() == 0 and world.probe.calls == 0
    at(world, 15)
    assert world.checks.run_due() == 1 and world.probe.calls == 1
    [posted] = world.chat.messages
    assert posted.channel == "C0OPS"
    assert posted.text == ("✅ Scheduled check *prod-alarms* (`alarms env=prod`) has a new result:\n"
                           "No alarms in ALARM.")
    assert world.checks.run_due() == 0  # the same fire time never runs twice


def test_a_result_is_posted_only_when_it_changes(world):
    world.checks.run_due()
    answers = ["No alarms in ALARM.", "No alarms in ALARM.", "web-5xx-high in ALARM", "web-5xx-high in ALARM",
               "No alarms in ALARM."]
    for n, answer in enumerate(answers, start=1):
        world.probe.answer = answer
        at(world, 15 * n)
        assert world.checks.run_due() == 1
    assert world.probe.calls == 5
    assert [text.split("\n")[1] for text in world.posts()] == [
        "No alarms in ALARM.", "web-5xx-high in ALARM", "No alarms in ALARM."]


def test_a_failing_check_is_posted_once_then_quiet_until_it_changes(world):
    world.checks.run_due()
    world.probe.failing, world.probe.answer = True, "AWS said AccessDenied"
    for n in (1, 2, 3):
        at(world, 15 * n)
        world.checks.run_due()
    [failed] = world.posts()
    assert failed.startswith("❌ Scheduled check *prod-alarms*") and failed.endswith("AWS said AccessDenied")


def test_each_run_is_a_request_of_the_service_identity_with_its_audit_trail(world):
    world.checks.run_due()
    at(world, 15)
    world.checks.run_due()
    decided = [r for r in world.audit() if r["event"] == "request.decided"]
    assert [(r["actor"]["platform"], r["actor"]["id"], r["actor"]["person"], r["command"], r["decision"])
            for r in decided] == [("schedule", "scheduler", "scheduler", "alarms", "allow")]
    with world.store.transaction() as tx:
        [request] = tx.list_requests(states=(State.SUCCEEDED,))
        state = tx.check_state("prod-alarms")
    assert (request.requester_id, request.channel) == ("scheduler", "C0OPS")
    assert state.last_request_id == request.id and state.last_fire_at == NOW + timedelta(minutes=15)


def test_missed_fire_times_are_coalesced_into_one_run_at_the_latest(world):
    world.checks.run_due()
    at(world, 15 * 8 + 3)  # two hours and three minutes later: eight fire times missed
    assert world.checks.run_due() == 1 and world.probe.calls == 1
    with world.store.transaction() as tx:
        assert tx.check_state("prod-alarms").last_fire_at == NOW + timedelta(minutes=120)


def test_fire_times_older_than_a_day_are_dropped(world):
    world.checks.run_due()
    at(world, 3 * 24 * 60 + 1)  # three days later: only the last day counts, its latest fire time runs
    assert world.checks.run_due() == 1
    with world.store.transaction() as tx:
        assert tx.check_state("prod-alarms").last_fire_at == NOW + timedelta(days=3)


def test_a_fire_time_reaching_the_dispatcher_twice_runs_once(world, database_url):
    """A second process that read the state before the first saved it sends the same fire time:
    the idempotency key (schedule + fire time) stops it before anything runs or is posted."""
    world.checks.run_due()
    at(world, 15)
    assert world.checks.run_due() == 1
    with world.store.transaction() as tx:  # put the state back as the late process read it
        assert tx.check_state_save(CheckState("prod-alarms", NOW), previous_fire_at=NOW + timedelta(minutes=15))
    late = World(store=world.store, clock=world.clock, holder="process-2")
    assert late.checks.run_due() == 0
    assert (world.probe.calls, late.probe.calls) == (1, 0)
    assert len(world.posts()) == 1 and late.posts() == []


def test_two_processes_handling_the_same_tick_at_once_run_it_once(world):
    other = World(store=world.store, clock=world.clock, holder="process-2")
    world.checks.run_due()
    at(world, 15)
    ran = run_together(2, lambda i: (world, other)[i].checks.run_due())
    assert sorted(ran) == [0, 1], ran
    assert world.probe.calls + other.probe.calls == 1
    assert len(world.posts()) + len(other.posts()) == 1


def test_only_the_lease_holder_runs_the_schedules(world):
    follower = World(store=world.store, clock=world.clock, holder="process-2")
    assert world.worker.run_all_once() == ["schedules", "reminders", "everywhere"]
    assert follower.worker.run_all_once() == ["everywhere"]  # singleton jobs wait for the lease
    at(world, 15)
    world.worker.run_all_once()
    follower.worker.run_all_once()
    assert (world.probe.calls, follower.probe.calls) == (1, 0)


def test_an_automation_crash_is_a_failed_result_and_is_posted(world):
    world.checks.run_due()
    at(world, 15)
    world.probe.run = lambda *args: 1 / 0  # an adapter bug: the request fails, the check reports it
    assert world.checks.run_due() == 1
    [posted] = world.posts()
    assert posted.startswith("❌") and "internal error" in posted


def test_a_broken_schedule_does_not_stop_the_others(world):
    [good] = world.catalog.schedules

    def broken_calendar(_after):
        raise RuntimeError("calendar bug")

    broken = replace(good, name="broken", next_fire=broken_calendar)
    world.dispatcher.rt.catalog = replace(world.catalog, schedules=(broken, good))
    world.checks.run_due()
    with world.store.transaction() as tx:  # the broken one was seen, then failed on its first fire time
        assert tx.check_state("broken") is not None
    at(world, 15)
    assert world.checks.run_due() == 1 and world.probe.calls == 1
