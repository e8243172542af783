"""Runbook search and reminders in Slack, over real HTTP: signed slash commands and button clicks to
opsgate's ASGI app under uvicorn, answers observed at the local Slack Web API."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from opsgate.domain.schedule import ReminderState
from tests.core.scheduling_world import CATALOG
from tests.e2e.slack_world import OPS, SlackWorld, buttons_of

# The runbook test catalog, served: `alarms` echoes, and no schedule fires during the test.
SLACK_CATALOG = CATALOG.split("schedules:")[0].replace("action: {kind: probe}",
                                                       'action: {kind: builtin, operation: echo, message: "no alarms"}')


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url, catalog=SLACK_CATALOG)
    yield world
    world.close()


def test_a_runbook_search_posts_the_summary_with_a_page_link_and_command_buttons(world):
    world.command("U0ALICE", "runbook web 5xx errors")
    world.settle()
    [post] = world.posts(1)
    assert post["channel"] == OPS
    assert "📖 *Web returns 5xx errors* — matched: web, 5xx, errors" in post["text"]
    assert "https://ops.example.com/runbooks/web-5xx" in post["text"]
    buttons = buttons_of(post)
    assert buttons["alarms env=prod"]["value"] == "alarms env=prod"
    assert buttons["rollback service=web env=prod"]["value"] == "rollback service=web env=prod"


def test_a_runbook_button_runs_its_line_through_the_policy(world):
    world.command("U0ALICE", "runbook web 5xx")
    world.settle()
    [post] = world.posts(1)
    ts = world.api.calls_to("chat.postMessage")[0].answer["ts"]
    assert world.click("U0ALICE", buttons_of(post)["rollback service=web env=prod"], ts).status_code == 200
    world.settle()
    approval = world.posts(2)[-1]
    assert "Approval needed" in approval["text"] and "rollback" in approval["text"]  # prod is protected
    decided = [r for r in world.audit() if r["event"] == "request.decided" and r["command"] == "rollback"]
    assert [(r["actor"]["id"], r["decision"], r["rule"]) for r in decided] == [
        ("U0ALICE", "approve", "approval.protected-env")]


def test_a_runbook_search_by_someone_unknown_is_refused_to_them(world):
    world.command("U0MALLORY", "runbook web 5xx")
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral" and "not in the catalog" in answer["text"]


def test_a_reminder_is_set_listed_and_posted_once_when_due(world):
    world.command("U0ALICE", 'remind here at="in 1h" "deploy window closes"')
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral"
    rid = re.search(r"`(rem-[0-9a-z]{8})`", answer["text"]).group(1)
    assert f"in {OPS}: deploy window closes" in answer["text"]
    world.command("U0ALICE", "reminders")
    assert "deploy window closes" in world.responses(2)[-1]["text"]

    store = world.served.app.store
    with store.transaction() as tx:  # an hour passes: due now (the server runs on the real clock)
        reminder = tx.reminder_get(rid)
        tx.reminder_update(replace(reminder, due_at=datetime.now(timezone.utc) - timedelta(seconds=1)),
                           expected_state=ReminderState.PENDING)
    world.served.app.worker.run_all_once()  # the background worker may get there first: either way, once
    world.api.wait_for(lambda: any("⏰ Reminder" in c.args["text"] for c in world.api.calls_to("chat.postMessage")))
    world.settle()
    sent = [c.args for c in world.api.calls_to("chat.postMessage") if "⏰ Reminder" in c.args["text"]]
    assert [(s["channel"], s["text"]) for s in sent] == [(OPS, "⏰ Reminder from Alice Example: deploy window closes")]
    with store.transaction() as tx:
        assert tx.reminder_get(rid).state is ReminderState.SENT


def test_someone_elses_reminder_cannot_be_cancelled(world):
    world.command("U0ALICE", 'remind C0DEV at="tomorrow 09:00" "standup moved"')
    rid = re.search(r"`(rem-[0-9a-z]{8})`", world.responses(1)[0]["text"]).group(1)
    world.command("U0BOB", f"remind cancel {rid}")
    refusal = world.responses(2)[-1]
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"] == f"Cannot cancel `{rid}`: it was set by Alice Example; only they can cancel it."
    [audited] = [r for r in world.audit() if r["event"] == "reminder.cancel_refused"]
    assert audited["actor"]["id"] == "U0BOB" and audited["correlation"]["reminder"] == rid


def test_a_bad_time_is_answered_to_the_person_only(world):
    world.command("U0ALICE", 'remind here at="someday" "x"')
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral" and "'someday' is not a time opsgate reads" in answer["text"]
    assert world.api.calls_to("chat.postMessage") == []
