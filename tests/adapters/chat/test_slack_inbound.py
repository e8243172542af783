"""Slack payloads → Inbound: ids from the payload only, the line as typed, stable idempotency keys."""

from __future__ import annotations

import pytest

from opsgate.adapters.chat.slack import inbound

COMMAND = {"team_id": "T1", "channel_id": "C1", "channel_name": "ops", "user_id": "U1", "user_name": "alice",
           "text": "deploy status web prod", "trigger_id": "123.456.abc", "response_url": "https://hooks/1"}


@pytest.mark.parametrize(("text", "line"), [
    ("rollback web prod --link <https://github.com/acme/web/pull/1>", "rollback web prod --link https://github.com/acme/web/pull/1"),
    ("--link <https://x.example/a?b=1&amp;c=2|x.example/a>", "--link https://x.example/a?b=1&c=2"),
    ("deny r-1 reason=&quot;a &lt;b&gt;&quot;", 'deny r-1 reason="a <b>"'),
    ("explain restart web <#C0OPS|ops>", "explain restart web C0OPS"),
    ("  help  ", "help"),
])
def test_slack_formatting_becomes_the_line_that_was_typed(text, line):
    assert inbound.plain_text(text) == line


@pytest.mark.parametrize(("channel", "kind", "direct"), [
    ("D0123", None, True), ("C0123", "directmessage", True), ("G0123", "mpdm-alice--bob-1", True),
    ("C0123", "im", True), ("C0123", "mpim", True), ("C0123", "ops", False), ("G0123", "privategroup", False),
])
def test_direct_messages_are_recognised(channel, kind, direct):
    assert inbound.is_direct(channel, kind) is direct


def test_a_slash_command_keeps_the_signed_user_id_and_keys_on_the_trigger():
    delivery = inbound.from_command(COMMAND)
    assert delivery.inbound.actor.user_id == "U1" and delivery.inbound.actor.platform == "slack"
    assert delivery.inbound.text == "deploy status web prod" and delivery.inbound.channel == "C1"
    assert delivery.inbound.idempotency_key == "slack:cmd:T1:123.456.abc"
    assert (delivery.target.response_url, delivery.target.trigger_id) == ("https://hooks/1", "123.456.abc")


def test_an_empty_slash_command_is_help():
    assert inbound.from_command({**COMMAND, "text": ""}).inbound.text == "help"


def test_a_mention_drops_the_bots_name_and_answers_in_the_thread():
    body = {"event_id": "Ev1", "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.1",
                                         "text": "<@UBOT> deploy status web prod"}}
    delivery = inbound.from_message_event(body)
    assert delivery.inbound.text == "deploy status web prod" and delivery.inbound.thread == "1.1"
    assert delivery.inbound.idempotency_key == "slack:event:Ev1" and not delivery.inbound.is_dm


def test_a_mention_inside_a_thread_answers_in_that_thread():
    body = {"event_id": "Ev2", "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "2.2",
                                         "thread_ts": "1.1", "text": "<@UBOT|opsgate>: help"}}
    delivery = inbound.from_message_event(body)
    assert (delivery.inbound.text, delivery.inbound.thread) == ("help", "1.1")


@pytest.mark.parametrize("extra", [{"subtype": "message_changed"}, {"bot_id": "B1"}])
def test_edits_and_bot_messages_are_not_lines(extra):
    body = {"event_id": "Ev3", "event": {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1",
                                         "ts": "3.3", "text": "help", **extra}}
    assert inbound.from_message_event(body) is None


def test_a_click_stands_for_the_buttons_line_and_keys_on_the_action():
    body = {"team": {"id": "T1"}, "user": {"id": "U2", "name": "carol"}, "channel": {"id": "C1"},
            "message": {"ts": "5.5"}, "trigger_id": "9.9.t", "response_url": "https://hooks/2",
            "actions": [{"action_id": "opsgate.approve", "value": "approve r-1", "action_ts": "6.6"}]}
    delivery = inbound.from_action(body, "approve r-1")
    assert delivery.inbound.text == "approve r-1" and delivery.inbound.actor.user_id == "U2"
    assert delivery.inbound.idempotency_key == "slack:action:T1:U2:6.6"


def test_a_submitted_modal_keys_on_the_view():
    body = {"team": {"id": "T1"}, "user": {"id": "U2", "name": "carol"}, "view": {"id": "V1"}, "trigger_id": "t"}
    delivery = inbound.from_view(body, "deny r-1 reason=x", "C1", "5.5")
    assert delivery.inbound.idempotency_key == "slack:view:T1:U2:V1"
    assert (delivery.inbound.channel, delivery.inbound.thread, delivery.target.response_url) == ("C1", "5.5", None)
