"""Incident commands through the dispatcher, over a real store (SQLite and PostgreSQL), the console's
room adapter, a fake clock and a recording chat."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from rich.console import Console

from opsgate.adapters.builtin_actions import BuiltinActions
from opsgate.adapters.chat.console_rooms import ConsoleRooms
from opsgate.adapters.store import open_store
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.core.incidents.timeline import record_timeline
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.incident import IncidentSettings, RoomKind, Severity, Status
from opsgate.testing import FakeClock, RecordingChat
from tests.adapters.store.store_samples import run_together
from tests.factories import NOW, catalog

ROOM = "#inc-2026-03-02-checkout-returns-500s"
SETTINGS = IncidentSettings(
    channel="C0INCIDENTS", stakeholder_channel="C0STAKE",
    severities=(Severity("1", "critical", responders=("carol",)), Severity("2", "major", responders=("bob",)),
                Severity("3", "minor")),
    link_patterns=(r"https://jira\.example\.com/browse/[A-Z]+-\d+",),
)


class World:
    def __init__(self, url: str, settings: IncidentSettings = SETTINGS) -> None:
        self.clock = FakeClock(NOW)
        self.chat = RecordingChat()
        self.screen = io.StringIO()
        self.store = open_store(url)
        self.dispatcher = Dispatcher(replace(catalog(), incidents=settings), self.store,
                                     AutomationRouter({"builtin": BuiltinActions()}), self.chat, self.clock,
                                     rooms=ConsoleRooms(Console(file=self.screen, width=300)))

    def say(self, person: str, text: str, *, channel: str = "C1", thread: str | None = None, platform: str = "console"):
        return self.dispatcher.handle(Inbound(Actor(platform, person, person.title()), text, channel, thread=thread))

    def incident(self, incident_id: str = "inc-1"):
        with self.store.transaction() as tx:
            return tx.incident_get(incident_id)

    def timeline(self, incident_id: str = "inc-1") -> list[tuple[str, str, str]]:
        with self.store.transaction() as tx:
            return [(e.kind, e.text, e.actor_id) for e in tx.incident_timeline(incident_id)]

    def audit(self) -> list[dict]:
        return [r.fields() for r in self.store.iter_audit()]

    def posted(self, channel: str) -> list[str]:
        return [m.text for m in self.chat.messages if m.channel == channel]


@pytest.fixture
def world(sqlite_url):
    w = World(sqlite_url)
    yield w
    w.store.close()


@pytest.fixture
def any_world(database_url):
    w = World(database_url)
    yield w
    w.store.close()


def declare(world: World, person: str = "alice", line: str = 'incident declare title="Checkout returns 500s" sev=2'):
    reply = world.say(person, line)
    assert reply.ok, reply.text
    return reply


# -- declaring ---------------------------------------------------------------------------------------

def test_declaring_opens_a_channel_invites_responders_and_tells_everyone(any_world):
    reply = declare(any_world)
    assert not reply.ephemeral
    assert reply.text.splitlines() == [
        "Declared 🚨 `inc-1` · sev 2 (major) · *declared* · Checkout returns 500s",
        f"Created the channel {ROOM}.",
        "Commander: Alice, until someone else is assigned.",
    ]
    incident = any_world.incident()
    assert (incident.room, incident.channel, incident.room_name) == (RoomKind.CHANNEL, ROOM, ROOM)
    assert f"created the channel {ROOM}" in any_world.screen.getvalue()
    assert f"invited alice, bob to {ROOM}" in any_world.screen.getvalue()  # the declarer and sev 2's responders
    [intro] = any_world.posted(ROOM)
    assert intro.startswith("🚨 `inc-1` · sev 2 (major) · *declared* · Checkout returns 500s\nDeclared by Alice. "
                            "Commander: Alice.\nResponders invited: Bob.")
    assert any_world.posted("C0INCIDENTS") == [f"🚨 `inc-1` · sev 2 (major) · *declared* · Checkout returns 500s\n"
                                               f"Declared by Alice. Room: {ROOM}"]
    assert len(any_world.posted("C0STAKE")) == 1
    assert any_world.timeline() == [("declared", "Declared sev 2 (major): Checkout returns 500s", "alice"),
                                    ("room", f"Created the channel {ROOM}", "alice")]
    events = [(a["event"], a["correlation"].get("incident")) for a in any_world.audit()]
    assert events == [("incident.declared", "inc-1"), ("incident.room", "inc-1")]
    assert any_world.store.verify_audit().ok


def test_numbers_go_up_and_names_that_repeat_still_open_a_room(world):
    declare(world)
    declare(world)
    assert world.incident("inc-2").number == 2
    assert world.incident("inc-2").room_name == ROOM  # the console takes any name; Slack's -2 is tested in e2e


def test_two_replicas_declaring_at_once_get_two_incidents(postgres_url):
    worlds = [World(postgres_url), World(postgres_url)]
    try:
        replies = run_together(2, lambda i: worlds[i].say("alice", f'incident declare title="at once {i}" sev=1'))
        assert all(r.ok for r in replies), [r.text for r in replies]
        with worlds[0].store.transaction() as tx:
            assert sorted(i.id for i in tx.incidents_list()) == ["inc-1", "inc-2"]
    finally:
        for w in worlds:
            w.store.close()


@pytest.mark.parametrize(("line", "expected"), [
    ('incident declare title="x" sev=7', "Cannot declare an incident: `7` is not a severity here; use one of: "
                                          "1 (critical); 2 (major); 3 (minor)."),
    ('incident declare title="   " sev=1', "Cannot declare an incident: the title is empty; say in a line what is wrong."),
])
def test_a_bad_declaration_is_refused_clearly_and_audited(world, line, expected):
    reply = world.say("alice", line)
    assert (reply.ok, reply.text) == (False, expected)
    assert world.incident() is None
    [refusal] = world.audit()
    assert (refusal["event"], refusal["decision"], refusal["command"]) == ("incident.refused", "deny", "incident declare")


def test_parse_problems_say_what_is_accepted(world):
    assert "`sev`" in world.say("alice", 'incident declare title="x" sev="two words"').text
    assert "Missing parameter `sev`" in world.say("alice", 'incident declare title="x"').text
    assert "longer than 200 characters" in world.say("alice", f'incident declare title="{"x" * 201}" sev=1').text


def test_only_the_configured_roles_may_declare(sqlite_url):
    w = World(sqlite_url, replace(SETTINGS, declare_roles=("sre",)))
    refused = w.say("alice", 'incident declare title="x" sev=1')
    assert not refused.ok and "declaring needs one of the roles sre or the `incident-manage` permission" in refused.text
    assert w.say("carol", 'incident declare title="x" sev=1').ok
    assert not w.say("nora", 'incident declare title="x" sev=1').ok  # no role at all: the policy refuses
    w.store.close()


# -- working it ----------------------------------------------------------------------------------------

def test_updates_in_the_room_need_no_id_and_reach_room_and_stakeholders(world):
    declare(world)
    world.clock.advance(minutes=3)
    reply = world.say("alice", 'incident update status=investigating "5xx on /pay since 08:55"', channel=ROOM)
    assert reply.ok and reply.text == ("Posted the update of `inc-1` to "
                                       f"{ROOM} and the stakeholders' channel (C0STAKE).")
    said = "🔎 `inc-1` · sev 2 (major) · *investigating* · Checkout returns 500s\n5xx on /pay since 08:55\n— Alice"
    assert world.posted(ROOM)[-1] == said and world.posted("C0STAKE")[-1] == said
    incident = world.incident()
    assert (incident.status, incident.acknowledged_at) == (Status.INVESTIGATING, NOW + timedelta(minutes=3))
    assert world.timeline()[-2:] == [("ack", "Acknowledged by Alice", "alice"),
                                     ("status", "declared → investigating: 5xx on /pay since 08:55", "alice")]


def test_outside_a_room_the_incident_must_be_named(world):
    declare(world)
    reply = world.say("alice", 'incident update "hello"')
    assert reply.text == ("Cannot update the incident: this is no incident's room, so say which: `id=inc-…` "
                          "(open: inc-1 (Checkout returns 500s)).")
    assert world.say("alice", 'incident update "hello" id=1').ok
    assert "there is no incident `inc-9`" in world.say("alice", 'incident update "x" id=inc-9').text


def test_statuses_move_forward_and_times_stay_in_order(world):
    declare(world)
    world.clock.advance(minutes=10)
    assert world.say("alice", "incident ack id=inc-1").text == "Acknowledged `inc-1` at 09:10 UTC."
    world.clock.advance(minutes=30)
    early = world.say("alice", 'incident update status=mitigated at=09:05 "rolled back" id=inc-1')
    assert early.text == ("Cannot update the incident `inc-1`: mitigated at 2026-03-02 09:05 would be before "
                          "acknowledged at 2026-03-02 09:10; lifecycle times stay in order: declared ≤ acknowledged "
                          "≤ mitigated ≤ resolved.")
    future = world.say("alice", 'incident update status=mitigated at=2026-03-02T10:00Z id=inc-1')
    assert "would be in the future" in future.text
    assert world.say("alice", 'incident update status=mitigated at=09:30 "rolled back" id=inc-1').ok
    assert world.incident().mitigated_at == NOW + timedelta(minutes=30)
    back = world.say("alice", "incident update status=investigating id=inc-1")
    assert "inc-1 is mitigated; statuses move forward only" in back.text
    same = world.say("alice", "incident update status=mitigated id=inc-1")
    assert "inc-1 is already mitigated; add a note to post an update" in same.text
    nothing = world.say("alice", "incident update id=inc-1")
    assert "give a status= and/or a note" in nothing.text
    bad_time = world.say("alice", 'incident update "x" at=yesterday id=inc-1')
    assert "`at`: 'yesterday' is not a time opsgate reads" in bad_time.text
    refusals = [a["rule"] for a in world.audit() if a["event"] == "incident.refused"]
    assert refusals == ["incident.lifecycle", "incident.lifecycle", "incident.lifecycle", "incident.update",
                        "incident.update", "incident.at"]


def test_people_outside_the_incident_may_not_work_it(world):
    declare(world, line='incident declare title="db" sev=3')  # sev 3 lists no responders
    refused = world.say("bob", 'incident update status=identified "x" id=inc-1')
    assert refused.text == ("Cannot update the incident `inc-1`: only its role holders, the person who declared it, "
                            "the responders of sev 3 or someone with `incident-manage` may do that.")
    assert world.incident().status is Status.DECLARED
    [audit] = [a for a in world.audit() if a["event"] == "incident.refused"]
    assert (audit["actor"]["person"], audit["rule"]) == ("bob", "incident.responder")


def test_the_responders_of_the_severity_may_work_it_but_not_command_it(world):
    declare(world)
    assert world.say("bob", 'incident update status=identified "bad deploy" id=1').ok
    refused = world.say("bob", "incident resolve id=1")
    assert "only its commander or someone with `incident-manage` may do that" in refused.text
    assert "only its commander" in world.say("bob", "incident assign role=commander bob id=1").text


def test_roles_are_assigned_by_mention_or_id_and_handed_over(world):
    declare(world)
    reply = world.say("U0ALICE", "incident assign role=operations <@U0BOB> id=1", platform="slack")
    assert reply.ok and reply.text == "Bob is now operations of `inc-1`."
    assert world.say("alice", "incident assign communications @carol id=1").ok
    assert world.say("alice", "incident assign role=commander carol id=1").ok
    assert "only its commander" in world.say("alice", "incident assign role=operations alice id=1").text
    with world.store.transaction() as tx:
        held = {h.role: h.person_id for h in tx.incident_roles("inc-1")}
    assert held == {"commander": "carol", "communications": "carol", "operations": "bob"}
    assert [t for t in world.timeline() if t[0] == "role"] == [
        ("role", "Bob is operations", "alice"), ("role", "Carol is communications", "alice"),
        ("role", "Carol is commander (was Alice)", "alice")]
    assert "👤 Bob is now operations of `inc-1` (assigned by Alice)." in world.posted(ROOM)
    assert f"invited bob to {ROOM}" in world.screen.getvalue()


@pytest.mark.parametrize(("line", "expected"), [
    ("incident assign role=boss bob id=1", "Parameter `role`: `boss` must be one of commander, communications, operations."),
    ("incident assign role=commander <@U0NOBODY> id=1", "Cannot assign commander: <@U0NOBODY> is not a person in the "
                                                         "catalog; mention them (so the chat sends their member id) or "
                                                         "give their catalog id."),
    ("incident assign role=commander mallory id=1", "Cannot assign commander: mallory is not a person in the catalog"),
    ("incident assign role=commander Bob! id=1", "Parameter `person`"),
])
def test_unknown_roles_and_people_are_refused(world, line, expected):
    declare(world)
    reply = world.say("U0ALICE", line, platform="slack")
    assert not reply.ok and reply.text.startswith(expected), reply.text


def test_a_ticket_link_follows_the_link_rules(world):
    declare(world)
    assert "must be an https:// URL" in world.say("alice", "incident link http://jira.example.com/browse/OPS-1 id=1").text
    other = world.say("alice", "incident link https://evil.example.com/OPS-1 id=1")
    assert other.text == (r"Cannot link a ticket `inc-1`: the link is not one of the accepted kinds "
                          r"(https://jira\.example\.com/browse/[A-Z]+-\d+).")
    assert world.say("alice", "incident link https://jira.example.com/browse/OPS-7 id=1").ok
    assert world.incident().ticket_url == "https://jira.example.com/browse/OPS-7"
    linked = [a for a in world.audit() if a["event"] == "incident.linked"]
    assert linked[0]["links"] == ["https://jira.example.com/browse/OPS-7"]


def test_a_resolved_incident_takes_no_updates_but_a_ticket_and_an_export(world):
    declare(world)
    world.clock.advance(minutes=42)
    reply = world.say("alice", 'incident resolve "rolled back; error rate normal" id=1')
    assert reply.text == "Resolved `inc-1`: acknowledged after 42m; mitigated after 42m; resolved after 42m."
    for line in ('incident update "more" id=1', "incident ack id=1", "incident assign role=operations bob id=1",
                 "incident resolve id=1"):
        refused = world.say("alice", line)
        assert not refused.ok and "was resolved at 2026-03-02 09:42 UTC; it takes no more changes" in refused.text
    assert world.say("alice", "incident link https://jira.example.com/browse/PM-3 id=1").ok
    assert world.say("alice", "incident export id=1").text == (
        f"Shared the postmortem draft of `inc-1` in {ROOM} as postmortem-inc-1.md (`opsgate incident export inc-1` "
        "writes it too).")
    assert f"shared postmortem-inc-1.md (Postmortem draft: inc-1 Checkout returns 500s) in {ROOM}:\n# Postmortem" \
        in world.screen.getvalue()
    assert any(text.startswith("✅ `inc-1` · sev 2 (major) · *resolved*") for text in world.posted(ROOM))


def test_ack_twice_says_when(world):
    declare(world)
    world.clock.advance(minutes=2)
    world.say("bob", "incident ack id=1")
    world.clock.advance(minutes=2)
    assert world.say("alice", "incident ack id=1").text == "`inc-1` was acknowledged already, at 09:02 UTC."
    assert [t for t in world.timeline() if t[0] == "ack"] == [("ack", "Acknowledged by Bob", "bob")]


# -- the timeline captures by itself -----------------------------------------------------------------

def test_commands_and_approvals_in_the_room_go_into_its_timeline_without_secrets(world):
    declare(world)
    world.say("bob", "deploy status web prod", channel=ROOM)
    rid = world.say("bob", "rollback web prod --link https://github.com/acme/web/pull/9", channel=ROOM).request_id
    world.say("carol", f"approve {rid}")  # approved from anywhere: the request was made in the room
    world.say("carol", "secret rotate name=db-password value=hunter2 env=dev", channel=ROOM)
    world.say("alice", "deploy status web prod", channel="C0ELSEWHERE")  # not the room: not in the timeline
    captured = [t for t in world.timeline() if t[0] in ("command", "approval")]
    assert [kind for kind, _, _ in captured] == ["command", "command", "command", "approval", "command", "command",
                                                 "command"]
    texts = [text for _, text, _ in captured]
    assert texts[0].startswith("Bob asked for `r-") and texts[0].endswith("deploy status env=prod service=web [prod] — approved")
    assert texts[1].endswith("deploy status env=prod service=web [prod] succeeded: web in prod: v42")
    assert texts[2] == f"Bob asked for `{rid}` rollback env=prod service=web [prod] — awaiting approval (1 needed from sre)"
    assert texts[3] == f"Carol approved `{rid}` rollback env=prod service=web [prod]"
    assert texts[4] == f"`{rid}` rollback env=prod service=web [prod] succeeded: rolled back web in prod"
    assert "hunter2" not in str(world.timeline()) and "value=[redacted]" in texts[5]
    assert all("C0ELSEWHERE" not in t for t in texts)


def test_a_denial_in_the_room_says_why(world):
    declare(world)
    rid = world.say("bob", "rollback web prod --link https://github.com/acme/web/pull/9", channel=ROOM).request_id
    world.say("carol", f'deny {rid} reason="not during the sale"')
    assert world.timeline()[-1] == ("approval", f"Carol denied `{rid}` rollback env=prod service=web [prod]: "
                                                "not during the sale", "carol")


def test_other_parts_add_to_the_timeline_once_per_key(world):
    declare(world)
    with world.store.transaction() as tx:
        assert record_timeline(tx, "inc-1", "alert", "api-latency-p99 is ALARM", NOW, "cloudwatch", "g-7k2m9qd4",
                               dedupe="alert:g-7k2m9qd4:1")
        assert not record_timeline(tx, "inc-1", "alert", "again", NOW, "cloudwatch", "g-7k2m9qd4",
                                   dedupe="alert:g-7k2m9qd4:1")
    assert ("alert", "api-latency-p99 is ALARM", "cloudwatch") in world.timeline()


def test_a_pin_outside_incident_rooms_is_quiet(world):
    declare(world)
    reply = world.say("alice", "incident pin channel=C0RANDOM ts=1700000000.000100")
    assert reply.quiet and reply.text == "C0RANDOM is no incident's room; nothing was added."
    in_room = world.say("alice", f"incident pin channel={ROOM[1:]} ts=1700000000.000100")
    assert in_room.quiet  # the console's channels are "#name": a bare name is no room either


def test_a_pin_of_a_message_the_chat_cannot_show_is_answered(world):
    declare(world)
    reply = world.say("alice", f"incident pin channel={ROOM} ts=1700000000.000100")
    assert (reply.ok, reply.text) == (False, "That message was not found; nothing was added to the timeline.")


# -- thread mode and no room ---------------------------------------------------------------------------

def test_thread_mode_uses_a_thread_in_the_incidents_channel(sqlite_url):
    w = World(sqlite_url, replace(SETTINGS, mode=RoomKind.THREAD))
    reply = declare(w)
    assert "The room is a thread in the incidents channel (C0INCIDENTS)." in reply.text
    incident = w.incident()
    assert (incident.room, incident.channel, incident.thread) == (RoomKind.THREAD, "C0INCIDENTS", "thread-1")
    assert "started a thread (thread-1) in C0INCIDENTS: 🚨 `inc-1`" in w.screen.getvalue()
    assert w.say("alice", 'incident update "in the thread"', channel="C0INCIDENTS", thread="thread-1").ok
    assert "this is no incident's room" in w.say("alice", 'incident update "x"', channel="C0INCIDENTS").text
    assert [(m.channel, m.thread) for m in w.chat.messages if "in the thread" in m.text] == [
        ("C0INCIDENTS", "thread-1"), ("C0STAKE", None)]
    w.store.close()


def test_thread_mode_mentions_the_responders_in_the_threads_first_message(sqlite_url):
    severities = (Severity("1", "critical", responders=("alice", "carol", "ghost"), groups={"console": ("oncall",)}),)
    w = World(sqlite_url, replace(SETTINGS, mode=RoomKind.THREAD, severities=severities))
    reply = declare(w, line='incident declare title="Checkout returns 500s" sev=1')
    assert "Not notified: ghost has no console id in the catalog." in reply.text
    screen = w.screen.getvalue()
    # The responders but the declarer, and the severity's groups: a thread has nobody to invite.
    assert "Responders: Carol.\n  mentioning carol, group oncall" in screen
    assert "invited" not in screen
    assert w.timeline()[1] == ("room", "The room is a thread in the incidents channel (C0INCIDENTS); Not notified: "
                                       "ghost has no console id in the catalog", "alice")
    w.store.close()


def test_without_room_operations_the_incident_is_worked_by_its_id(sqlite_url):
    clock, chat, store = FakeClock(NOW), RecordingChat(), open_store(sqlite_url)
    dispatcher = Dispatcher(replace(catalog(), incidents=SETTINGS), store, AutomationRouter({}), chat, clock)
    reply = dispatcher.handle(Inbound(Actor("console", "alice"), 'incident declare title="x" sev=1', "C1"))
    assert reply.text.splitlines()[1:3] == [
        "Could not create the channel #inc-2026-03-02-x (this chat cannot open channels).",
        "Could not start a thread in C0INCIDENTS (this chat cannot start threads): commands need `id=inc-1`.",
    ]
    assert [m.channel for m in chat.messages] == ["C0INCIDENTS", "C0STAKE"]
    assert "It has no room: use `id=inc-1`" in chat.messages[0].text
    store.close()


# -- reading -------------------------------------------------------------------------------------------

def test_list_and_show(world):
    declare(world)
    declare(world, line='incident declare title="Queue backlog" sev=3')
    world.clock.advance(minutes=5)
    world.say("alice", "incident resolve id=2")
    assert world.say("alice", "incidents").text == (
        f"🚨 `inc-1` · sev 2 (major) · *declared* · Checkout returns 500s · commander Alice · {ROOM} · declared 5m ago")
    assert len(world.say("alice", "incidents all=true").text.splitlines()) == 2
    shown = world.say("bob", "incident show", channel=ROOM).text.splitlines()
    assert shown[:4] == ["🚨 `inc-1` · sev 2 (major) · *declared* · Checkout returns 500s",
                         "Commander: Alice · Communications: — · Operations: —",
                         "declared 2026-03-02 09:00 UTC by Alice", f"Room: {ROOM}"]
    assert shown[4] == "Timeline (2 entries):" and shown[5].startswith("  09:00 declared: Declared sev 2")
    world.say("alice", "incident resolve id=1")
    assert world.say("alice", "incidents").text == "No open incidents."


class CrashingRooms(ConsoleRooms):
    """A room adapter with a bug (no real platform fails like this): the incident must survive it."""

    def create_channel(self, name: str, *, private: bool):
        raise RuntimeError("adapter bug")


def test_an_adapter_that_crashes_leaves_the_incident_declared_and_says_so(sqlite_url, caplog):
    clock, chat, store = FakeClock(NOW), RecordingChat(), open_store(sqlite_url)
    dispatcher = Dispatcher(replace(catalog(), incidents=SETTINGS), store, AutomationRouter({}), chat, clock,
                            rooms=CrashingRooms(Console(file=io.StringIO())))
    reply = dispatcher.handle(Inbound(Actor("console", "alice"), 'incident declare title="x" sev=1', "C1"))
    assert reply.ok
    ref = re.search(r"Could not open a room \(internal error, ref ([0-9a-f]{8})\): commands need `id=inc-1`\.",
                    reply.text).group(1)
    assert any(getattr(r, "ref", None) == ref for r in caplog.records)  # the operators can find it in the logs
    with store.transaction() as tx:
        assert tx.incident_get("inc-1").room is RoomKind.NONE
    store.close()


def test_text_people_type_cannot_break_the_draft_or_the_timeline(world):
    declare(world, line='incident declare title="DB | cache ## down" sev=2')
    world.say("alice", 'incident update "line one\n# not a heading\n| not | a row |" id=1')
    assert ("update", "line one\n# not a heading\n| not | a row |", "alice") in world.timeline()  # kept as said
    world.say("alice", "incident export id=1")
    draft = world.screen.getvalue()
    assert "| Title | DB \\| cache ## down |" in draft
    assert "**update** — line one # not a heading | not | a row | (Alice)" in draft  # one line per entry
    shown = world.say("alice", "incident show id=1").text
    assert "update: line one # not a heading | not | a row | — Alice" in shown
