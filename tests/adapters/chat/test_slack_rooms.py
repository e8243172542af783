"""Incident rooms on Slack (SlackRooms) against the local Web API over HTTP, and 📌 reactions → lines."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from opsgate.adapters.chat.slack.pins import from_reaction
from opsgate.adapters.chat.slack.rooms import SlackRooms
from opsgate.core.builtins import builtin_commands
from opsgate.core.parser import parse_line
from opsgate.domain.rooms import RoomUnavailable


@pytest.fixture
def rooms(api):
    return SlackRooms(WebClient(token="xoxb-test", base_url=api.base_url))


def test_a_channel_is_created_and_a_taken_name_gets_a_number(api, rooms):
    first = rooms.create_channel("inc-2026-03-02-db", private=False)
    second = rooms.create_channel("inc-2026-03-02-db", private=True)
    assert (first.name, second.name) == ("inc-2026-03-02-db", "inc-2026-03-02-db-2")
    assert first.url == f"https://slack.com/app_redirect?channel={first.channel}"
    assert [c.args["name"] for c in api.calls_to("conversations.create")] == [
        "inc-2026-03-02-db", "inc-2026-03-02-db", "inc-2026-03-02-db-2"]


def test_a_long_taken_name_stays_within_80_characters(api, rooms):
    name = "inc-" + "x" * 76
    rooms.create_channel(name, private=False)
    assert len(rooms.create_channel(name, private=False).name) == 80


def test_a_refused_channel_says_slacks_reason(api, rooms):
    api.fail_next("conversations.create", error="restricted_action")
    with pytest.raises(RoomUnavailable, match="^Slack answered restricted_action$"):
        rooms.create_channel("inc-x", private=False)
    api.fail_next("conversations.create", status=429, error="ratelimited", headers={"Retry-After": "1"})
    with pytest.raises(RoomUnavailable, match="ratelimited"):
        rooms.create_channel("inc-y", private=False)


def test_invites_expand_groups_and_report_who_could_not_be_invited(api, rooms):
    api.usergroups = [{"id": "S0ONCALL", "users": ["U0DAVE", "U0ALICE"]}]
    api.missing_users = {"U0GONE"}
    outcome = rooms.invite("C0001INC", ("U0ALICE", "U0GONE"), ("S0ONCALL", "S0NOPE"))
    assert outcome.invited == ("U0ALICE", "U0DAVE")
    assert outcome.problems == ("group S0NOPE: Slack answered no_such_subteam", "U0GONE: user_not_found")
    [invite] = api.calls_to("conversations.invite")
    assert invite.args["users"] == "U0ALICE,U0GONE,U0DAVE"


def test_a_failed_invite_call_is_a_problem_not_an_error(api, rooms):
    api.fail_next("conversations.invite", error="not_in_channel")
    assert rooms.invite("C0001INC", ("U0ALICE",), ()).problems == ("U0ALICE: Slack answered not_in_channel",)


def test_a_thread_starts_with_a_message_posted_at_once(api, rooms):
    ts = rooms.start_thread("C0INCIDENTS", "🚨 inc-1 <b>")
    [post] = api.calls_to("chat.postMessage")
    assert post.answer["ts"] == ts and post.args["text"] == "🚨 inc-1 &lt;b&gt;"


def test_a_pinned_message_is_read_back_in_a_thread_or_at_the_top(api, rooms):
    root = api.add_message("C0INC", "root", "U0ALICE")
    reply = api.add_message("C0INC", "see <https://grafana.example.com/d/1|the dashboard>", "U0BOB", thread_ts=root)
    found = rooms.fetch_message("C0INC", reply)
    assert (found.text, found.author, found.thread) == ("see https://grafana.example.com/d/1", "U0BOB", root)
    assert found.at.timestamp() == pytest.approx(float(reply))
    assert rooms.fetch_message("C0INC", root).text == "root"
    assert rooms.fetch_message("C0INC", "1.000001") is None  # replies fails, history finds nothing
    assert [c.method for c in api.calls][-2:] == ["conversations.replies", "conversations.history"]


def test_a_document_is_shared_as_a_file_in_the_thread(api, rooms):
    rooms.share_document("C0INC", "1700000000.000001", "postmortem-inc-1.md", "Postmortem draft", "# Draft\n")
    [complete] = api.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C0INC" and complete.args["thread_ts"] == "1700000000.000001"
    assert list(api.uploads.values()) == [b"# Draft\n"]


def test_a_pushpin_reaction_becomes_a_pin_line_the_parser_accepts():
    body = {"event_id": "Ev1", "event": {"type": "reaction_added", "user": "U0BOB", "reaction": "pushpin::skin-tone-2",
                                         "item": {"type": "message", "channel": "C0001INC", "ts": "1700000000.000100"}}}
    delivery = from_reaction(body)
    assert delivery.inbound.text == "incident pin channel=C0001INC ts=1700000000.000100"
    assert (delivery.inbound.actor.user_id, delivery.inbound.idempotency_key) == ("U0BOB", "slack:event:Ev1")
    parsed = parse_line(delivery.inbound.text, builtin_commands(()))
    assert parsed.params == {"channel": "C0001INC", "ts": "1700000000.000100"}


@pytest.mark.parametrize("event", [
    {"type": "reaction_added", "user": "U0BOB", "reaction": "thumbsup", "item": {"type": "message", "channel": "C1", "ts": "1.1"}},
    {"type": "reaction_added", "user": "U0BOB", "reaction": "pushpin", "item": {"type": "file", "file": "F1"}},
    {"type": "reaction_added", "reaction": "pushpin", "item": {"type": "message", "channel": "C1", "ts": "1.1"}},
])
def test_other_reactions_are_no_lines(event):
    assert from_reaction({"event_id": "Ev2", "event": event}) is None
