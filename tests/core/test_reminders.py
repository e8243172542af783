"""Reminders through the dispatcher: set, listed, cancelled, refused with reasons, delivered once when
due (also with two deliverers racing, and after a deliverer stopped mid-way), all audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from opsgate.core.reminders import CLAIM_S, MAX_PENDING_PER_PERSON
from opsgate.domain.schedule import ReminderState
from tests.adapters.store.store_samples import run_together
from tests.core.scheduling_world import NOW, World


@pytest.fixture
def world(database_url):
    world = World(database_url)
    yield world
    world.store.close()


def reminder_id(text: str) -> str:
    return re.search(r"`(rem-[0-9a-z]{8})`", text).group(1)


def stored(world: World, rid: str):
    with world.store.transaction() as tx:
        return tx.reminder_get(rid)


def test_a_reminder_is_set_for_the_channel_named_and_said_back_in_the_team_zone(world):
    reply = world.say("alice", 'remind C0DEPLOY at="tomorrow 09:00" "Release train leaves at 10"')
    assert reply.ok and reply.ephemeral
    rid = reminder_id(reply.text)
    assert reply.text == (f"⏰ Reminder `{rid}` set for Tue 2026-03-03 09:00 Europe/Berlin in C0DEPLOY: Release train "
                          f"leaves at 10\n`remind cancel {rid}` cancels it.")
    reminder = stored(world, rid)
    assert (reminder.channel, reminder.due_at, reminder.created_by, reminder.state) == (
        "C0DEPLOY", NOW + timedelta(hours=23), "alice", ReminderState.PENDING)
    [created] = [r for r in world.audit() if r["event"] == "reminder.created"]
    assert created["actor"]["person"] == "alice" and created["reason"] == "Release train leaves at 10"
    assert created["correlation"] == {"reminder": rid, "channel": "C0DEPLOY", "due_at": "2026-03-03T08:00:00+00:00"}


def test_here_means_the_channel_and_thread_the_line_came_from(world):
    rid = reminder_id(world.say("alice", 'remind here at="in 2h" "check the canary"', channel="C0WEB",
                                thread="1700000000.000100").text)
    reminder = stored(world, rid)
    assert (reminder.channel, reminder.thread, reminder.due_at) == ("C0WEB", "1700000000.000100", NOW + timedelta(hours=2))


@pytest.mark.parametrize(("at", "problem"), [
    ("yesterday", "`at`: 'yesterday' is not a time opsgate reads; use"),
    ("in 30s", "`at`: Mon 2026-03-02 10:00 Europe/Berlin is not in the future; a reminder is at least 1m ahead"),
    ("2026-03-02 08:00", "is not in the future"),
    ("in 91d", "is more than 90 days ahead"),
])
def test_a_time_that_cannot_be_is_refused_and_audited(world, at, problem):
    reply = world.say("alice", f'remind here at="{at}" "x"')
    assert not reply.ok and reply.text.startswith("Cannot set the reminder: ") and problem in reply.text
    [refused] = [r for r in world.audit() if r["event"] == "reminder.refused"]
    assert problem in refused["reason"] and refused["actor"]["person"] == "alice"
    with world.store.transaction() as tx:
        assert tx.reminders_list(states=tuple(ReminderState)) == []


def test_a_channel_must_be_an_id_or_here(world):
    reply = world.say("alice", 'remind #ops at="in 1h" "x"')
    assert not reply.ok and reply.text == ("Cannot set the reminder: `#ops` is not a channel id; name the channel by "
                                           "its id (C…, under the channel's details in Slack) or say `here`.")


def test_a_person_may_have_only_so_many_reminders_waiting(world):
    for n in range(MAX_PENDING_PER_PERSON):
        assert world.say("bob", f'remind here at="in {n + 1}h" "r{n}"').ok
    reply = world.say("bob", 'remind here at="in 2d" "one too many"')
    assert not reply.ok and f"you have {MAX_PENDING_PER_PERSON} reminders waiting" in reply.text


def test_people_without_a_role_cannot_set_reminders(world):
    reply = world.say("mallory", 'remind here at="in 1h" "spam"')
    assert not reply.ok and "identity.known" in reply.text
    [refused] = [r for r in world.audit() if r["event"] == "request.refused"]
    assert refused["command"] == "remind" and refused["rule"] == "identity.known"


def test_reminders_lists_your_own_or_everyones(world):
    world.say("alice", 'remind C0OPS at="in 3h" "deploy window closes"')
    world.say("bob", 'remind C0OPS at="in 1h" "standup"')
    mine = world.say("alice", "reminders").text
    assert "deploy window closes" in mine and "standup" not in mine
    everyone = world.say("alice", "reminders all=true").text.split("\n")
    assert [line.split(": ", 1)[1] for line in everyone] == ["standup", "deploy window closes"]  # soonest first
    assert world.say("erin", "reminders").text == "You have no reminders waiting."


def test_only_the_person_who_set_it_may_cancel_and_a_cancelled_one_is_never_sent(world):
    rid = reminder_id(world.say("alice", 'remind C0OPS at="in 1h" "x"').text)
    refused = world.say("bob", f"remind cancel {rid}")
    assert not refused.ok and refused.text == f"Cannot cancel `{rid}`: it was set by Alice Example; only they can cancel it."
    assert world.say("alice", f"remind cancel {rid}").text == f"Cancelled reminder `{rid}`."
    again = world.say("alice", f"remind cancel {rid}")
    assert not again.ok and "it is cancelled" in again.text
    missing = world.say("alice", "remind cancel rem-00000000")
    assert not missing.ok and "there is no reminder `rem-00000000`" in missing.text
    world.clock.advance(hours=2)
    assert world.delivery.deliver_due() == 0 and world.posts() == []
    events = [r["event"] for r in world.audit() if r["event"].startswith("reminder.")]
    assert events == ["reminder.created", "reminder.cancel_refused", "reminder.cancelled", "reminder.cancel_refused",
                      "reminder.cancel_refused"]


def test_a_due_reminder_is_posted_once_in_its_channel_and_audited(world):
    rid = reminder_id(world.say("alice", 'remind C0DEPLOY at="in 2h" "Release train leaves"').text)
    world.clock.advance(hours=2, seconds=-1)
    assert world.delivery.deliver_due() == 0
    world.clock.advance(seconds=1)
    assert world.delivery.deliver_due() == 1
    assert world.delivery.deliver_due() == 0
    [message] = world.chat.messages
    assert (message.channel, message.text) == ("C0DEPLOY", "⏰ Reminder from Alice Example: Release train leaves")
    assert stored(world, rid).state is ReminderState.SENT
    [sent] = [r for r in world.audit() if r["event"] == "reminder.sent"]
    assert sent["correlation"] == {"reminder": rid, "channel": "C0DEPLOY", "set_by": "alice", "attempt": "1"}
    assert world.say("alice", "reminders").text == "You have no reminders waiting."


def test_a_failed_post_is_tried_again_and_not_marked_as_a_repeat(world):
    world.say("alice", 'remind here at="in 1h" "x"')
    world.clock.advance(hours=1)
    post = world.chat.post
    world.chat.post = lambda message: (_ for _ in ()).throw(RuntimeError("chat away"))
    assert world.delivery.deliver_due() == 0
    world.chat.post = post
    assert world.delivery.deliver_due() == 1
    assert world.posts() == ["⏰ Reminder from Alice Example: x"]


def test_a_deliverer_that_stopped_mid_way_leaves_a_claim_that_runs_out_and_the_repeat_says_so(world):
    rid = reminder_id(world.say("alice", 'remind here at="in 1h" "x"').text)
    world.clock.advance(hours=1)
    with world.store.transaction() as tx:  # a process claimed it, maybe posted, then died
        assert [r.id for r in tx.reminders_claim_due(world.clock.now(), limit=10, lease_s=CLAIM_S)] == [rid]
    assert world.delivery.deliver_due() == 0
    world.clock.advance(seconds=CLAIM_S)
    assert world.delivery.deliver_due() == 1
    assert world.posts() == ["⏰ Reminder from Alice Example: x (sent again: an earlier delivery was interrupted)"]


def test_two_deliverers_at_once_post_each_reminder_once(world):
    other = World(store=world.store, clock=world.clock, holder="process-2")
    for n in range(12):
        world.say("alice" if n % 2 else "bob", f'remind C0OPS at="in {n + 1}m" "r{n}"')
    world.clock.advance(minutes=20)
    posted = run_together(2, lambda i: (world, other)[i].delivery.deliver_due())
    assert sum(posted) == 12
    assert sorted(world.posts() + other.posts()) == sorted(
        f"⏰ Reminder from {'Alice' if n % 2 else 'Bob'} Example: r{n}" for n in range(12))


def test_only_the_lease_holder_delivers(world):
    follower = World(store=world.store, clock=world.clock, holder="process-2")
    world.say("alice", 'remind C0OPS at="in 1m" "x"')
    world.clock.advance(minutes=1)
    follower.worker.run_all_once()  # takes the lease: the first to ask
    world.worker.run_all_once()
    assert follower.posts() == ["⏰ Reminder from Alice Example: x"] and world.posts() == []
