"""Incidents in Slack over real HTTP: signed slash commands, events and clicks to opsgate's ASGI app,
rooms created, people invited, messages posted and files shared at the local Slack Web API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.e2e.slack_world import CATALOG, OPS, SlackWorld, buttons_of

ROOM_NAME = re.compile(r"inc-\d{4}-\d{2}-\d{2}-checkout-returns-500s")
INCIDENTS = "C0INCIDENTS"
STATUS = "C0STATUS"
INCIDENT_CATALOG = CATALOG + """
incidents:
  channel: C0INCIDENTS
  stakeholder_channel: C0STATUS
  severities:
    - {name: "1", description: critical, responders: [carol], groups: {slack: [S0ONCALL]}}
    - {name: "2", description: major, responders: [bob]}
"""


@pytest.fixture
def world(tmp_path, database_url):
    world = SlackWorld(tmp_path, database_url, catalog=INCIDENT_CATALOG)
    world.api.usergroups = [{"id": "S0ONCALL", "users": ["U0DAVE", "U0GONE"]}]
    world.api.missing_users = {"U0GONE"}
    yield world
    world.close()


def posts_to(world: SlackWorld, channel: str) -> list[dict]:
    return [c.args for c in world.api.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def ephemeral_texts(world: SlackWorld) -> list[str]:
    return [c.args["text"] for c in world.api.calls if c.method in ("response_url", "chat.postEphemeral")]


def run(world: SlackWorld, user: str, text: str, channel: str = OPS) -> None:
    assert world.command(user, text, channel=channel).status_code == 200
    world.settle()


def declare(world: SlackWorld) -> str:
    run(world, "U0ALICE", 'incident declare sev=1 title="Checkout returns 500s"')
    [created] = world.api.calls_to("conversations.create")
    assert ROOM_NAME.fullmatch(created.args["name"]) and created.args["is_private"] in ("false", "0", False)
    return created.answer["channel"]["id"]


def pin(world: SlackWorld, user: str, channel: str, ts: str, event_id: str, retry: int | None = None) -> None:
    event = {"type": "reaction_added", "user": user, "reaction": "pushpin", "item_user": "U0CAROL",
             "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": f"{time.time():.6f}"}
    assert world.event(event, event_id=event_id, retry=retry).status_code == 200
    world.settle()


def timeline(world: SlackWorld) -> list[tuple[str, str, str]]:
    with world.served.app.store.transaction() as tx:
        return [(e.kind, e.text, e.actor_id) for e in tx.incident_timeline("inc-1")]


def test_an_incident_declared_worked_and_resolved_in_slack(world, tmp_path):
    room = declare(world)
    [invite] = world.api.calls_to("conversations.invite")
    assert invite.args["channel"] == room and invite.args["force"] in ("true", "1", True)
    assert invite.args["users"].split(",") == ["U0ALICE", "U0CAROL", "U0DAVE", "U0GONE"]  # declarer, responders, group
    [intro] = posts_to(world, room)
    assert intro["text"].startswith("🚨 `inc-1` · sev 1 (critical) · *declared* · Checkout returns 500s")
    assert "Not invited: U0GONE: user_not_found." in intro["text"]
    [announced] = posts_to(world, INCIDENTS)
    assert re.search(r"Room: #inc-\d{4}-\d{2}-\d{2}-checkout-returns-500s$", announced["text"])
    assert f"channel={room}" in str(announced["blocks"])  # a link that opens the room
    assert len(posts_to(world, STATUS)) == 1
    [declared] = posts_to(world, OPS)  # the answer is for the channel it was typed in
    assert declared["text"].startswith("Declared 🚨 `inc-1`")

    run(world, "U0ALICE", "incident assign role=operations <@U0BOB|bob>", channel=room)
    assert world.api.calls_to("conversations.invite")[-1].args["users"] == "U0BOB"
    run(world, "U0BOB", 'incident update status=investigating "5xx from the payment API since the deploy"', room)
    run(world, "U0BOB", "restart web prod", room)  # prod is protected: an approval, asked in the room
    approval = next(c for c in world.api.calls_to("chat.postMessage")
                    if c.args["channel"] == room and "Approval needed" in c.args["text"])
    request_id = approval.args["text"].split("`")[1]
    world.click("U0CAROL", buttons_of(approval.args)["Approve"], approval.answer["ts"], channel=room)
    world.settle()
    said = world.api.add_message(room, "Error rate is back under 1% after the restart", "U0CAROL")
    pin(world, "U0BOB", room, said, "Ev0PIN1")
    pin(world, "U0BOB", room, said, "Ev0PIN1", retry=1)  # Slack's retry: added once
    pin(world, "U0BOB", room, said, "Ev0PIN2")  # a second 📌 on the same message: added once
    elsewhere = world.api.add_message(OPS, "lunch?", "U0ALICE")
    pin(world, "U0BOB", OPS, elsewhere, "Ev0PIN3")  # not an incident's room: nothing said
    run(world, "U0BOB", 'incident update status=mitigated "Restarted web; error rate normal"', room)
    run(world, "U0ALICE", "incident link https://jira.example.com/browse/OPS-42", room)
    run(world, "U0ALICE", 'incident resolve "Root cause: a bad config push"', room)

    assert [(kind, actor) for kind, _, actor in timeline(world)] == [
        ("declared", "alice"), ("room", "alice"), ("ack", "alice"), ("role", "alice"), ("status", "bob"),
        ("command", "bob"), ("approval", "carol"), ("command", "opsgate:system"), ("pin", "bob"), ("status", "bob"),
        ("link", "alice"), ("resolved", "alice")]
    texts = [text for _, text, _ in timeline(world)]
    assert texts[0] == "Declared sev 1 (critical): Checkout returns 500s"
    assert re.fullmatch(r"Created the channel #inc-\d{4}-\d{2}-\d{2}-checkout-returns-500s; "
                        r"Not invited: U0GONE: user_not_found", texts[1])
    assert texts[3:6] == ["Bob Example is operations", "declared → investigating: 5xx from the payment API since the deploy",
                          f"Bob Example asked for `{request_id}` restart env=prod service=web [prod] — awaiting "
                          f"approval (1 needed from sre, oncall)"]
    assert texts[6] == f"Carol Example approved `{request_id}` restart env=prod service=web [prod]"
    assert texts[7] == f"`{request_id}` restart env=prod service=web [prod] succeeded: Restarted web in prod"
    assert texts[8] == "Carol Example: Error rate is back under 1% after the restart"
    assert texts[9:11] == ["investigating → mitigated: Restarted web; error rate normal",
                           "Ticket: https://jira.example.com/browse/OPS-42"]
    assert texts[11].startswith("Resolved (acknowledged after ") and texts[11].endswith(": Root cause: a bad config push")
    assert [t for t in ephemeral_texts(world) if "📌" in t] == ["📌 Added to the timeline of `inc-1`."]
    assert "That message is in the timeline of `inc-1` already." in ephemeral_texts(world)
    assert not any("lunch" in t or "no incident's room" in t for t in ephemeral_texts(world))
    stakeholders = [p["text"] for p in posts_to(world, STATUS)]
    assert [t.split("\n")[0] for t in stakeholders] == [
        "🚨 `inc-1` · sev 1 (critical) · *declared* · Checkout returns 500s",
        "🔎 `inc-1` · sev 1 (critical) · *investigating* · Checkout returns 500s",
        "🩹 `inc-1` · sev 1 (critical) · *mitigated* · Checkout returns 500s",
        "✅ `inc-1` · sev 1 (critical) · *resolved* · Checkout returns 500s"]

    run(world, "U0CAROL", "incident export", room)
    [complete] = world.api.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == room
    [shared] = world.api.uploads.values()
    draft = shared.decode()
    assert draft.startswith("# Postmortem draft — inc-1: Checkout returns 500s\n")
    assert f"| `{request_id}` | restart env=prod service=web [prod] | Bob Example | succeeded |" in draft
    assert re.search(rf"- `{request_id}` restart env=prod service=web \[prod\]: approved by Carol Example \(sre\) at ",
                     draft)
    exported = subprocess.run([sys.executable, "-m", "opsgate.cli", "incident", "export", "inc-1"], capture_output=True,
                              text=True, timeout=60, env={**os.environ, **world_env(world, tmp_path)})
    assert exported.returncode == 0, exported.stderr
    assert without_draft_time(exported.stdout) == without_draft_time(draft)  # the same record, line by line


def world_env(world: SlackWorld, tmp_path) -> dict[str, str]:
    return {"OPSGATE_DATABASE_URL": world.settings.database_url, "OPSGATE_CONFIG": str(tmp_path / "opsgate.yaml"),
            "OPSGATE_BASE_URL": world.settings.base_url or ""}  # the same pages linked as by the server


def without_draft_time(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if not line.startswith("> Draft written by opsgate on ")]


def test_a_channel_that_cannot_be_created_falls_back_to_a_thread_and_says_so(world):
    world.api.fail_next("conversations.create", error="restricted_action")
    run(world, "U0ALICE", 'incident declare sev=2 title="Queue backlog"')
    [root] = posts_to(world, INCIDENTS)  # posted at once: its ts is the thread the incident lives in
    ts = next(c.answer["ts"] for c in world.api.calls_to("chat.postMessage") if c.args["channel"] == INCIDENTS)
    [answer] = posts_to(world, OPS)
    assert "Could not create the channel #inc-" in answer["text"] and "(Slack answered restricted_action)" in answer["text"]
    assert "The room is a thread in the incidents channel (C0INCIDENTS)." in answer["text"]
    # Nobody is invited to a thread: sev 2's responder is mentioned in its first message instead.
    assert root["text"].startswith("<@U0BOB> 🚨 `inc-1` · sev 2 (major)") and world.api.calls_to("conversations.invite") == []
    mention = {"type": "app_mention", "user": "U0BOB", "channel": INCIDENTS, "ts": f"{time.time():.6f}",
               "thread_ts": ts, "text": '<@UOPSGATE> incident update status=identified "a stuck consumer"'}
    world.event(mention, event_id="Ev0MENTION")
    world.settle()
    threaded = [p for p in posts_to(world, INCIDENTS) if p.get("thread_ts") == ts]
    assert any(p["text"].startswith("🧭 `inc-1` · sev 2 (major) · *identified*") for p in threaded)


def test_a_taken_channel_name_gets_a_number(world):
    declare(world)
    run(world, "U0ALICE", 'incident declare sev=1 title="Checkout returns 500s"')
    creates = world.api.calls_to("conversations.create")
    assert [c.answer["ok"] for c in creates] == [True, False, True]
    assert creates[1].args["name"] == creates[0].args["name"] and creates[1].answer["error"] == "name_taken"
    assert creates[2].args["name"] == creates[0].args["name"] + "-2"
    with world.served.app.store.transaction() as tx:
        assert tx.incident_get("inc-2").room_name == "#" + creates[2].args["name"]


def test_refusals_are_told_to_the_person_only_and_audited(world):
    room = declare(world)
    run(world, "U0MALLORY", 'incident declare sev=1 title="x"')
    run(world, "U0BOB", "incident resolve", room)  # bob is no role holder yet, and not the commander
    run(world, "U0ALICE", "incident update status=bogus", room)
    answers = ephemeral_texts(world)
    assert any("U0MALLORY is not in the catalog" in t for t in answers)
    assert "Cannot resolve the incident: only its commander or someone with `incident-manage` may do that." in answers
    assert any(t.startswith("Parameter `status`: `bogus` must be one of investigating, identified, mitigated, resolved")
               for t in answers)
    run(world, "U0ALICE", "incident resolve", room)
    run(world, "U0ALICE", 'incident update "one more thing"', room)
    assert any("was resolved at" in t and "it takes no more changes" in t for t in ephemeral_texts(world))
    refusals = [(a["actor"]["id"], a["rule"]) for a in world.audit() if a["event"] in ("incident.refused", "request.refused")]
    assert ("U0BOB", "incident.commander") in refusals and ("U0ALICE", "incident.lifecycle") in refusals
    assert world.served.app.store.verify_audit().ok


def test_a_member_of_a_responder_group_may_work_the_incident(world):
    room = declare(world)  # sev 1: responders carol and the user group S0ONCALL
    run(world, "U0BOB", "incident ack", room)  # bob responds to sev 2 only
    run(world, "U0DAVE", "incident ack", room)  # dave is in S0ONCALL (and not in the catalog's people)
    answers = ephemeral_texts(world)
    assert any(t.startswith("Cannot acknowledge the incident: only its role holders") for t in answers)
    assert any(t.startswith("Acknowledged `inc-1` at ") for t in answers)
    assert [(kind, actor) for kind, _, actor in timeline(world)][-1] == ("ack", "slack:U0DAVE")


def test_in_thread_mode_the_responders_are_mentioned_in_the_threads_first_message(tmp_path, database_url):
    catalog = INCIDENT_CATALOG.replace("  channel: C0INCIDENTS\n", "  mode: thread\n  channel: C0INCIDENTS\n")
    world = SlackWorld(tmp_path, database_url, catalog=catalog)
    try:
        run(world, "U0ALICE", 'incident declare sev=1 title="Checkout returns 500s"')
        [root] = posts_to(world, INCIDENTS)
        assert root["text"].startswith("<@U0CAROL> <!subteam^S0ONCALL> 🚨 `inc-1` · sev 1 (critical)")
        assert "Responders: Carol Example." in root["text"]
        assert root["blocks"][0]["text"]["text"] == "<@U0CAROL> <!subteam^S0ONCALL>"  # what notifies them
        assert world.api.calls_to("conversations.create") == [] and world.api.calls_to("conversations.invite") == []
    finally:
        world.close()
