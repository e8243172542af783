"""`ack`, `silence`, `silences` and `unsilence` through the dispatcher (parser, policy, audit) on a
real store: permissions, what each changes, the group message updated on an ack, audit records."""

from __future__ import annotations

import pytest

from opsgate.adapters.builtin_actions import BuiltinActions
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.core.notifications import counters
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from tests.core.notifications.alert_samples import T0
from tests.core.notifications.notify_world import NotifyWorld, alarm


class World(NotifyWorld):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.dispatcher = Dispatcher(self.catalog, self.store, AutomationRouter({"builtin": BuiltinActions()}),
                                     self.chat, self.clock)

    def say(self, person: str, line: str):
        return self.dispatcher.handle(Inbound(Actor("console", person, person.title()), line, "C0ALERTS"))

    def audit(self) -> list[dict]:
        return [r.fields() for r in self.store.iter_audit()]

    def shown_group(self, *names: str) -> str:
        """Fire `names`, let the group's first message go out; its id."""
        self.receive(*(alarm(n) for n in names))
        self.at(0)
        self.at(30)
        main = next(m for m in self.take() if m.subject)
        return main.subject.removeprefix("alert-group/")


@pytest.fixture
def world(database_url):
    world = World(database_url)
    yield world
    world.close()


def test_ack_acknowledges_the_groups_firing_alerts_and_updates_its_message(world):
    group_id = world.shown_group("api-5xx", "api-latency")
    world.clock.advance(120)
    reply = world.say("carol", f"ack {group_id}")
    assert reply.ok and "Acknowledged 2 alert(s)" in reply.text
    [update] = world.take()
    assert update.subject == f"alert-group/{group_id}" and "✔ Acknowledged by Carol Example" in update.text
    assert update.buttons == ()  # nothing left to acknowledge
    [record] = [r for r in world.audit() if r["event"] == "alert.acknowledged"]
    assert record["actor"]["person"] == "carol" and record["target"] == group_id
    with world.store.transaction() as tx:
        assert tx.ack_waits_s(T0, T0 + _hours(1)) == [150.0, 150.0]  # from the state change to the ack
    assert world.counts()[counters.ACKS] == 2
    assert "Already acknowledged" in world.say("carol", f"ack {group_id}").text


def test_an_acknowledged_group_gets_no_reminders_an_unacknowledged_one_does(world):
    group_id = world.shown_group("api-5xx")
    world.at(30 + 3600)  # repeat_interval passed
    [reminder] = world.take()
    assert reminder.reply_to == f"alert-group/{group_id}" and "Still firing" in reminder.text
    world.say("carol", f"ack {group_id}")
    world.take()
    world.at(30 + 7200)
    assert world.take() == []


def test_ack_of_one_alert_by_its_id(world):
    group_id = world.shown_group("api-5xx", "api-latency")
    group = world.group(group_id)
    alert_id = next(m.id for key, m in group.meta.items() if key.endswith(":api-5xx"))
    assert "Acknowledged 1 alert(s)" in world.say("carol", f"ack {alert_id}").text
    [update] = world.take()
    assert update.buttons  # api-latency is still unacknowledged
    assert "✔ Carol Example" in next(line for line in update.text.splitlines() if "api-5xx" in line)


@pytest.mark.parametrize("line, answer", [
    ("ack g-zzzzzzzz", "There is no alert group or alert `g-zzzzzzzz`."),
    ("ack r-12345678", "Parameter `id`"),
    ("silence environment=prod reason=x", "A silence needs an end: for=<duration>"),
    ("silence for=2h reason=x", "A silence needs at least one matcher"),
    ("silence env for=2h reason=x", "`env` is not a matcher"),
    ("silence environment=prod for=20d reason=x", "a silence lasts from 1m to 14d"),
    ("silence environment=prod for=2h", "A silence needs a reason"),
    ("silence environment=prod for=soon reason=x", "`for`: 'soon' is not a duration"),
    ("unsilence s-zzzzzzzz", "There is no silence `s-zzzzzzzz`."),
])
def test_mistakes_are_refused_saying_what_would_be_accepted(world, line, answer):
    reply = world.say("carol", line)
    assert not reply.ok and answer in reply.text, reply.text


@pytest.mark.parametrize("line", ["ack g-zzzzzzzz", "silence environment=prod for=2h reason=x", "unsilence s-zzzzzzzz"])
def test_people_without_the_permission_are_refused_and_audited(world, line):
    reply = world.say("alice", line)
    assert not reply.ok and "Denied" in reply.text
    assert world.audit()[-1]["event"] == "request.refused"


def test_a_silence_keeps_matching_alerts_out_of_chat_counts_them_and_ends(world):
    reply = world.say("carol", 'silence alarm=api-* environment=prod for=2h reason="deploying the fix"')
    assert reply.ok and not reply.ephemeral and "Silence `s-" in reply.text
    silence_id = reply.text.split("`")[1]
    world.receive(alarm("api-5xx"), alarm("web-5xx"))
    world.at(0)
    world.at(30)
    main, _ = world.take()
    assert "web-5xx" in main.text and "api-5xx" not in main.text
    assert world.counts()[counters.SILENCED] == 1
    assert f"silenced by {silence_id}" in world.outcomes()["api-5xx-ALARM-" + str(T0.timestamp())]
    listed = world.say("alice", "silences").text  # anyone with a role may look
    assert silence_id in listed and "alarm=api-* environment=prod" in listed and "1 silenced" in listed
    assert "ended by Carol Example" in world.say("carol", f"unsilence {silence_id}").text
    assert "No silences are active." in world.say("carol", "silences").text
    assert [r["event"] for r in world.audit() if r["event"].startswith("silence.")] == ["silence.created", "silence.ended"]


def test_a_silence_expires_by_itself(world):
    world.say("carol", "silence alarm=api-* for=1h reason=maintenance")
    world.clock.advance(3600)
    world.receive(alarm("api-5xx", at=world.clock.now()))
    world.at(3600)
    world.at(3630)
    assert any("api-5xx" in m.text for m in world.take())


def test_an_alert_already_shown_still_resolves_under_a_silence(world):
    group_id = world.shown_group("api-5xx")
    world.say("carol", "silence alarm=api-* for=2h reason=flapping")
    world.receive(alarm("api-5xx", "OK", at=T0 + _hours(0.02)))
    world.at(100)
    world.at(330)
    resolved, _ = world.take()
    assert resolved.subject == f"alert-group/{group_id}" and "resolved" in resolved.text


def _hours(n: float):
    from datetime import timedelta

    return timedelta(hours=n)
