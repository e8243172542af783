"""Alerts in incident timelines: alarms fed through the real notification pipeline (stored events,
processing and flush jobs, the test clock) while incidents are declared and worked through the
dispatcher, over a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from rich.console import Console

from opsgate.adapters.builtin_actions import BuiltinActions
from opsgate.adapters.chat.console_rooms import ConsoleRooms
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.pages import PageLinks
from tests.adapters.store.store_samples import run_together
from tests.core.notifications.alert_samples import T0
from tests.core.notifications.notify_world import CATALOG, NotifyWorld, alarm

ROOM = "#inc-2026-03-02-checkout-returns-500s"
LB = "app/{}/50dc6c495c0c9188"  # the load balancer the sample alarms watch: their resource
INCIDENT_CATALOG = CATALOG.replace("notifications:", """incidents:
  channel: C0INCIDENTS
notifications:""").replace("  routes:\n", f"""  routes:
    - {{name: war-room, match: ["alarm=war-*"], channels: ["{ROOM}"]}}
""")
DEV = "111111111111"


class World(NotifyWorld):
    """The notification jobs and the dispatcher on one store and one clock."""

    def __init__(self, url: str, **kw) -> None:
        super().__init__(url, catalog=INCIDENT_CATALOG, **kw)
        self.url = url
        self.screen = io.StringIO()
        self.dispatcher = Dispatcher(self.catalog, self.store, AutomationRouter({"builtin": BuiltinActions()}),
                                     self.chat, self.clock, rooms=ConsoleRooms(Console(file=self.screen, width=400)))

    def say(self, person: str, line: str, *, channel: str = "C1"):
        return self.dispatcher.handle(Inbound(Actor("console", person, person.title()), line, channel))

    def fire(self, seconds: float, *alarms: dict) -> None:
        """Alarms that changed state at T0 + seconds, received and processed then."""
        self.receive(*alarms)
        self.at(seconds)

    def shown_group(self) -> str:
        """The id of the group whose message went out last."""
        return next(m.subject for m in reversed(self.messages) if m.subject).removeprefix("alert-group/")

    def timeline(self, incident_id: str = "inc-1") -> list[tuple[str, str, str, str]]:
        with self.store.transaction() as tx:
            return [(f"{e.at:%H:%M:%S}", e.kind, e.text, e.actor_id) for e in tx.incident_timeline(incident_id)]

    def audit(self) -> list[dict]:
        return [r.fields() for r in self.store.iter_audit()]


@pytest.fixture
def world(database_url):
    w = World(database_url)
    yield w
    w.close()


@pytest.fixture
def sqlite_world(sqlite_url):
    w = World(sqlite_url)
    yield w
    w.close()


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def declare(w: World, seconds: float, extra: str = "env=prod") -> None:
    w.clock.set(at(seconds))
    reply = w.say("alice", f'incident declare title="Checkout returns 500s" sev=2 {extra}')
    assert reply.ok, reply.text


def test_alerts_in_the_incidents_environment_go_into_its_timeline(world):
    world.fire(0, alarm("api-5xx", at=at(0)))
    world.at(30)  # group_wait over: the group's message goes out
    group = world.shown_group()
    declare(world, 60)
    world.fire(90, alarm("db-cpu", at=at(90), severity="critical"),
               alarm("dev-queue", at=at(90), account=DEV))  # another environment: not the incident's
    world.clock.set(at(150))
    assert world.say("carol", f"ack {group}", channel="C0ALERTS").ok
    world.fire(300, alarm("api-5xx", "OK", at=at(300)))

    assert world.timeline() == [
        ("09:00:00", "alert", f"Fired: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {group}",
         "cloudwatch"),  # firing before the declaration: taken in when it was declared
        ("09:01:00", "declared", "Declared sev 2 (major: a key feature is down or badly degraded) in prod: "
                                 "Checkout returns 500s", "alice"),
        ("09:01:00", "room", f"Created the channel {ROOM}", "alice"),
        ("09:01:30", "alert", f"Fired: critical db-cpu on {LB.format('db-cpu')} (prod) — alert group {group}",
         "cloudwatch"),
        ("09:02:30", "alert", f"Carol Example acknowledged high api-5xx on {LB.format('api-5xx')} (prod); "
                              f"critical db-cpu on {LB.format('db-cpu')} (prod) — alert group {group}", "carol"),
        ("09:05:00", "alert", f"Resolved: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {group}",
         "cloudwatch"),
    ]
    with world.store.transaction() as tx:
        assert {e.ref for e in tx.incident_timeline("inc-1") if e.kind == "alert"} == {group}  # the group's page
        assert tx.incident_get("inc-1").environment == "prod"
    [declared] = [a for a in world.audit() if a["event"] == "incident.declared"]
    assert declared["environment"] == "prod"


def test_the_postmortem_draft_and_show_list_the_alerts_with_links_to_their_group(world):
    world.fire(0, alarm("api-5xx", at=at(0)))
    world.at(30)
    group = world.shown_group()
    declare(world, 60)
    world.fire(120, alarm("api-5xx", "OK", at=at(120)))
    world.dispatcher.rt.pages = PageLinks("https://opsgate.example.com")
    page = f"https://opsgate.example.com/alerts/{group}"
    assert world.say("alice", "incident export", channel=ROOM).ok
    draft = world.screen.getvalue().split("# Postmortem draft")[1].splitlines()
    timeline = draft[draft.index("## Timeline (UTC)") + 2:draft.index("## Commands run") - 1]
    assert timeline == [
        f"- 2026-03-02 09:00 **alert** — Fired: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {group} "
        f"(cloudwatch) · [Alert group page]({page})",
        "- 2026-03-02 09:01 **declared** — Declared sev 2 (major: a key feature is down or badly degraded) in prod: "
        "Checkout returns 500s (Alice Example)",
        f"- 2026-03-02 09:01 **room** — Created the channel {ROOM} (Alice Example)",
        f"- 2026-03-02 09:02 **alert** — Resolved: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {group} "
        f"(cloudwatch) · [Alert group page]({page})",
    ]
    assert "| Environment | prod |" in draft
    shown = world.say("alice", "incident show", channel=ROOM).text.splitlines()
    assert "Environment: prod (its alerts go into the timeline)" in shown
    assert shown[-1] == (f"  09:02 alert: Resolved: high api-5xx on {LB.format('api-5xx')} (prod) — alert group "
                         f"{group} — cloudwatch {page}")


def test_a_replayed_batch_a_second_delivery_and_a_restart_add_nothing(world):
    declare(world, 0)
    world.receive(alarm("api-5xx", at=at(10)))
    world.clock.set(at(10))
    with world.store.transaction() as tx:
        claimed = tx.events_claim(world.clock.now(), limit=100, lease_s=60)
    for _ in range(2):  # the same claimed batch applied twice, as after a lease ran out mid-way
        with world.store.transaction() as tx:
            world.pipeline.apply(tx, world.pipeline.prepare(claimed), world.clock.now())
    world.at(40)
    group = world.shown_group()
    world.fire(60, alarm("api-5xx", at=at(10), message_id="the-same-alarm-by-another-path"))
    once = world.timeline()
    assert [(when, kind) for when, kind, _, _ in once] == [("09:00:00", "declared"), ("09:00:00", "room"),
                                                           ("09:00:10", "alert")]
    assert once[-1][2] == f"Fired: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {group}"

    restarted = World(world.url, clock=world.clock)  # a new process on the same database
    try:
        restarted.fire(90, alarm("api-5xx", at=at(10), message_id="delivered-once-more"))
        restarted.at(400)  # flushes, reminders: nothing new happened to the alert
        assert restarted.timeline() == once
        restarted.fire(500, alarm("api-5xx", "OK", at=at(500)))
        restarted.fire(501, alarm("api-5xx", "OK", at=at(500), message_id="its-resolution-again"))
        assert [t[2].split(":")[0] for t in restarted.timeline()[3:]] == ["Resolved"]
    finally:
        restarted.close()


def test_a_declaration_and_a_batch_at_the_same_moment_on_two_replicas_note_the_alert_once(postgres_url):
    first = World(postgres_url)
    second = World(postgres_url, clock=first.clock)
    try:
        for round_ in range(3):
            first.receive(alarm(f"api-5xx-{round_}", at=at(round_)))
            first.clock.set(at(round_ + 1))
            title = f'"Checkout round {round_}"'
            results = run_together(2, lambda i: (first.say("alice", f"incident declare title={title} sev=2 env=prod")
                                                 if i == 0 else second.process()))
            assert not any(isinstance(r, Exception) for r in results), results
            fired = [t for t in first.timeline(f"inc-{round_ + 1}") if t[2].startswith(f"Fired: high api-5xx-{round_}")]
            assert len(fired) == 1, first.timeline(f"inc-{round_ + 1}")
    finally:
        first.close()
        second.close()


def test_tying_a_group_while_another_replica_groups_alerts_of_the_incident_neither_waits_forever(postgres_url):
    first = World(postgres_url)
    second = World(postgres_url, clock=first.clock)
    try:
        declare(first, 0)
        first.fire(1, alarm("api-5xx", at=at(1)))
        first.at(40)
        group = first.shown_group()
        for round_ in range(1, 6):
            first.clock.set(at(40 + round_))
            first.receive(*(alarm(f"db-{round_}-{n}", at=at(40 + round_)) for n in range(20)))
            line = f"incident link alert={group} id=1" if round_ == 1 else f'incident update "round {round_}" id=1'
            results = run_together(2, lambda i: first.say("alice", line) if i == 0 else second.process())
            assert results[0].ok and results[1] == 20, results
        fired = [t for t in first.timeline() if t[2].startswith("Fired: high db-")]
        assert len(fired) == 100
    finally:
        first.close()
        second.close()


def test_a_group_tied_by_hand_brings_its_alerts_and_is_audited(world):
    declare(world, 0, extra="")  # no environment: nothing is tied by itself
    world.fire(10, alarm("api-5xx", at=at(10)), alarm("dev-queue", at=at(10), account=DEV))
    world.at(40)
    assert [kind for _, kind, _, _ in world.timeline()] == ["declared", "room"]
    prod_group = next(m.subject for m in world.messages if m.subject and m.channel == "C0ALERTS")
    prod_group = prod_group.removeprefix("alert-group/")
    world.clock.set(at(60))
    reply = world.say("alice", f"incident link alert={prod_group}", channel=ROOM)
    assert reply.text == f"Tied alert group {prod_group} (prod · cloudwatch) to `inc-1`: its alerts go into the timeline."
    assert world.say("alice", f"incident link alert={prod_group}", channel=ROOM).text == (
        f"Alert group {prod_group} (prod · cloudwatch) is tied to `inc-1` already.")
    world.fire(120, alarm("api-5xx", "OK", at=at(120)))
    assert world.timeline()[2:] == [
        ("09:00:10", "alert", f"Fired: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {prod_group}",
         "cloudwatch"),
        ("09:01:00", "alert", f"Alice Example tied alert group {prod_group} (prod · cloudwatch) to the incident",
         "alice"),
        ("09:02:00", "alert", f"Resolved: high api-5xx on {LB.format('api-5xx')} (prod) — alert group {prod_group}",
         "cloudwatch"),
    ]
    [linked] = [a for a in world.audit() if a["event"] == "incident.alert-linked"]
    assert (linked["target"], linked["correlation"]) == (prod_group, {"incident": "inc-1", "group": prod_group})
    assert any(f"Alert group {prod_group} (prod · cloudwatch) is tied to `inc-1` (by Alice Example)" in text
               for text in (m.text for m in world.messages if m.channel == ROOM))


@pytest.mark.parametrize(("line", "expected"), [
    ("incident link alert=g-23456789", "Cannot tie an alert group `inc-1`: there is no alert group or alert "
                                       "`g-23456789`; group ids (g-…) are on the group's message and page."),
    ("incident link alert=x-1", "Parameter `alert`: `x-1`"),
    ("incident link", "Cannot link `inc-1`: give a ticket's https:// URL, or alert=g-… to tie an alert group, one "
                      "at a time."),
    ("incident link https://jira.example.com/browse/OPS-1 alert=g-23456789",
     "Cannot link `inc-1`: give a ticket's https:// URL, or alert=g-… to tie an alert group, one at a time."),
])
def test_tying_what_is_not_an_alert_group_is_refused_clearly(sqlite_world, line, expected):
    declare(sqlite_world, 0, extra="")
    reply = sqlite_world.say("alice", f"{line} id=inc-1")
    assert not reply.ok and reply.text.startswith(expected), reply.text


def test_only_people_who_may_work_the_incident_may_tie_a_group(sqlite_world):
    declare(sqlite_world, 0, extra="")
    sqlite_world.fire(10, alarm("api-5xx", at=at(10)))
    sqlite_world.at(40)
    refused = sqlite_world.say("carol", f"incident link alert={sqlite_world.shown_group()} id=1")
    assert "only its role holders, the person who declared it" in refused.text
    assert [kind for _, kind, _, _ in sqlite_world.timeline()] == ["declared", "room"]


def test_a_silence_over_a_tied_alert_is_in_the_timeline(world):
    declare(world, 0)
    world.fire(10, alarm("api-5xx", at=at(10)), alarm("db-cpu", at=at(10)))
    world.at(40)
    group = world.shown_group()
    world.clock.set(at(100))
    assert world.say("carol", 'silence alarm=api-* for=1h reason="deploying the fix"', channel="C0ALERTS").ok
    [silenced] = [t for t in world.timeline() if "silenced" in t[2]]
    with world.store.transaction() as tx:
        [silence] = tx.silences_active(world.clock.now())
    assert silenced == ("09:01:40", "alert", f"Carol Example silenced high api-5xx on {LB.format('api-5xx')} (prod) "
                                             f"until 2026-03-02 10:01 UTC ({silence.id}: deploying the fix) — alert "
                                             f"group {group}", "carol")


def test_a_resolved_incident_takes_no_more_alerts_and_unknown_environments_are_refused(sqlite_world):
    w = sqlite_world
    refused = w.say("alice", 'incident declare title="x" sev=2 env=staging')
    assert refused.text == "Cannot declare an incident: `staging` is not an environment here; use one of: prod, dev."
    declare(w, 0, extra="env=PROD")  # named in any case: kept as the catalog spells it
    w.clock.set(at(60))
    assert w.say("alice", "incident resolve id=1").ok
    w.fire(120, alarm("api-5xx", at=at(120)))
    assert [kind for _, kind, _, _ in w.timeline()] == ["declared", "room", "ack", "resolved"]
    with w.store.transaction() as tx:
        assert tx.incident_get("inc-1").environment == "prod"


def test_groups_posted_in_the_incidents_own_channel_are_tied_to_it(sqlite_world):
    w = sqlite_world
    declare(w, 0, extra="")
    w.fire(10, alarm("war-room-probe", at=at(10), account=DEV))  # routed to the room, in another environment
    w.at(40)
    [posted] = [m for m in w.messages if m.channel == ROOM and m.subject]
    group = posted.subject.removeprefix("alert-group/")
    assert [t for t in w.timeline() if t[1] == "alert"] == [
        ("09:00:10", "alert", f"Fired: high war-room-probe on {LB.format('war-room-probe')} (dev) — alert group {group}",
         "cloudwatch")]
