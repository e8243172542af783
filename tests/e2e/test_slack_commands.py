"""Slash commands, mentions and direct messages over real HTTP: signed requests to opsgate's ASGI app
under uvicorn, answers observed at a local Slack Web API."""

from __future__ import annotations

import time

import pytest

from tests.e2e.slack_world import DEV, OPS, SlackWorld


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url)
    yield world
    world.close()


def test_a_slash_command_is_acked_at_once_with_an_empty_body(world):
    started = time.perf_counter()
    answer = world.command("U0ALICE", "deploy status web prod")
    assert answer.status_code == 200 and answer.content == b""
    assert time.perf_counter() - started < 1.0  # far inside Slack's 3 s


def test_a_result_goes_to_the_channel_with_a_link_to_the_request_page(world):
    world.command("U0ALICE", "deploy status web prod")
    [post] = world.posts(1)
    assert post["channel"] == OPS and "thread_ts" not in post
    assert world.api.calls_to("chat.postMessage")[0].token == "xoxb-test"
    assert "Succeeded" in post["text"] and "web in prod: v42" in post["text"]
    request_id = post["text"].split("`")[1]
    assert f"<https://ops.example.com/requests/{request_id}|Request page>" in str(post["blocks"])


def test_help_is_ephemeral_to_the_person_only(world):
    world.command("U0ALICE", "help")
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "deploy status" in answer["text"]
    assert world.api.calls_to("chat.postMessage") == []


def test_an_empty_command_answers_with_help(world):
    world.command("U0ALICE", "")
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral" and "deploy status" in answer["text"]


def test_an_error_is_ephemeral_and_says_what_would_be_accepted(world):
    world.command("U0ALICE", "deplyo status web prod")
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral"
    assert "deploy status" in answer["text"]  # did you mean


def test_an_unknown_slack_id_may_run_only_help_and_whoami(world):
    world.command("U0MALLORY", "deploy status web prod")
    [answer] = world.responses(1)
    assert "slack:U0MALLORY is not in the catalog" in answer["text"]
    refused = [r for r in world.audit() if r["event"] == "request.decided"]
    assert refused[-1]["rule"] == "identity.known" and refused[-1]["actor"]["id"] == "U0MALLORY"


def test_the_display_name_in_the_payload_decides_nothing(world):
    body = world.command_body("U0MALLORY", "deploy status web prod").replace(b"user_name=u0mallory", b"user_name=alice")
    world.post_signed(body)
    [answer] = world.responses(1)
    assert "not in the catalog" in answer["text"]


def test_a_command_limited_to_a_channel_is_refused_elsewhere(world):
    world.command("U0ALICE", "cache flush dev", channel=DEV, channel_name="dev")
    [answer] = world.responses(1)
    assert "Denied by rule `channel.allowed`" in answer["text"] and "C0OPS" in answer["text"]


def test_a_command_not_allowed_in_direct_messages_is_refused_there(world):
    world.command("U0ALICE", "cache flush dev", channel="D0ALICE", channel_name="directmessage")
    [answer] = world.responses(1)
    assert "Denied by rule `channel.dm`" in answer["text"]


def test_a_mention_runs_the_line_and_answers_in_its_thread(world):
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@UOPSGATE> deploy status web dev",
             "channel": OPS, "ts": "1700000100.000100", "event_ts": "1700000100.000100"}
    assert world.event(event, event_id="Ev0MENTION").status_code == 200
    [post] = world.posts(1)
    assert post["channel"] == OPS and post["thread_ts"] == "1700000100.000100"
    assert "web in dev: v42" in post["text"]


def test_an_error_to_a_mention_is_shown_to_the_person_only(world):
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@UOPSGATE> nonsense", "channel": OPS,
             "ts": "1700000100.000200"}
    world.event(event, event_id="Ev0NONSENSE")
    [call] = world.api.wait_for(lambda: world.api.calls_to("chat.postEphemeral"))
    assert call.args["user"] == "U0ALICE" and call.args["channel"] == OPS
    assert call.args["thread_ts"] == "1700000100.000200"


def test_a_direct_message_is_a_line_and_dm_rules_apply(world):
    event = {"type": "message", "channel_type": "im", "user": "U0ALICE", "text": "cache flush dev",
             "channel": "D0ALICE", "ts": "1700000200.000100"}
    world.event(event, event_id="Ev0DM")
    [call] = world.api.wait_for(lambda: world.api.calls_to("chat.postEphemeral"))
    assert "Denied by rule `channel.dm`" in call.args["text"]


def test_the_bots_own_messages_and_edits_are_not_lines(world):
    for n, extra in enumerate([{"bot_id": "B0OPSGATE"}, {"subtype": "message_changed"}]):
        event = {"type": "message", "channel_type": "im", "user": "U0ALICE", "text": "deploy status web dev",
                 "channel": "D0ALICE", "ts": f"1700000300.00010{n}", **extra}
        assert world.event(event, event_id=f"Ev0SKIP{n}").status_code == 200
    world.settle()
    assert world.api.calls_to("chat.postMessage") == [] and world.api.calls_to("chat.postEphemeral") == []


def test_an_event_retry_is_answered_with_no_retry_and_runs_nothing_twice(world):
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@UOPSGATE> deploy status web dev",
             "channel": OPS, "ts": "1700000400.000100"}
    assert world.event(event, event_id="Ev0RETRY").status_code == 200
    world.posts(1)
    retry = world.event(event, event_id="Ev0RETRY", retry=1)
    assert retry.status_code == 200 and retry.headers["X-Slack-No-Retry"] == "1"
    world.settle()
    assert len(world.api.calls_to("chat.postMessage")) == 1
    decided = [r for r in world.audit() if r["event"] == "request.decided"]
    assert len(decided) == 1


def test_health_and_readiness(world):
    assert world.http.get("/healthz").json() == {"status": "ok"}
    assert world.http.get("/readyz").json() == {"status": "ready"}
