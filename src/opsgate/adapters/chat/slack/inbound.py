"""Slack payloads → (Inbound, Target): what the dispatcher runs, and where the answer goes.

The user id comes only from the payload Slack signed (or sent over the Socket Mode connection);
display names are carried for messages and never decide anything. Each kind of payload has an
idempotency key that is the same for every delivery of the same thing (a Slack retry, a second
replica receiving it, a replay of the same signed body) and differs between two real actions.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound

PLATFORM = "slack"

# <https://x|label> and <https://x> are links, <@U123> a mention, <#C1|name> a channel, <!here> a
# special mention: Slack's formatting in event text (and in command text when escaping is on).
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[:,]?\s*")


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to answer the person who sent a line."""

    user: str
    channel: str
    thread: str | None = None
    response_url: str | None = None  # commands and clicks: answers, ephemeral ones too, go here
    trigger_id: str | None = None  # valid for 3 s: lets opsgate open a modal for what is missing
    line: str = ""  # the line as run, to run again with what a modal asked for


@dataclass(frozen=True, slots=True)
class Delivery:
    inbound: Inbound
    target: Target


def plain_text(text: str) -> str:
    """Slack's message formatting → the line a person typed."""
    text = _LINK.sub(r"\1", text)
    text = _CHANNEL.sub(r"\1", text)
    return html.unescape(text).strip()


def is_direct(channel: str, channel_kind: str | None = None) -> bool:
    """A direct message (D… ids, `directmessage`/`im`) or a group DM (`mpdm-…`, `mpim`)."""
    kind = channel_kind or ""
    return channel.startswith("D") or kind in ("directmessage", "im", "mpim") or kind.startswith("mpdm-")


def from_command(body: dict[str, Any]) -> Delivery:
    """A slash command (`/ops deploy ...`). An empty command asks for help."""
    user, channel = body["user_id"], body["channel_id"]
    line = plain_text(body.get("text") or "") or "help"
    inbound = Inbound(
        actor=Actor(PLATFORM, user, body.get("user_name", "")),
        text=line,
        channel=channel,
        is_dm=is_direct(channel, body.get("channel_name")),
        # trigger_id is unique per invocation and the same in every delivery of it.
        idempotency_key=f"slack:cmd:{body.get('team_id', '')}:{body['trigger_id']}",
    )
    return Delivery(inbound, Target(user, channel, None, body.get("response_url"), body.get("trigger_id"), line))


def from_message_event(body: dict[str, Any]) -> Delivery | None:
    """A mention of the bot in a channel, or a direct message to it; None if it is no command
    (edits, bot messages, a mention with nothing after it is help)."""
    event = body["event"]
    if event.get("subtype") or event.get("bot_id") or "user" not in event:
        return None
    user, channel = event["user"], event["channel"]
    line = plain_text(_LEADING_MENTION.sub("", event.get("text") or "", count=1)) or "help"
    thread = event.get("thread_ts") or event.get("ts")  # answers go in the thread of the line
    inbound = Inbound(
        actor=Actor(PLATFORM, user, ""),
        text=line,
        channel=channel,
        is_dm=is_direct(channel, event.get("channel_type")),
        thread=thread,
        idempotency_key=f"slack:event:{body['event_id']}",
    )
    return Delivery(inbound, Target(user, channel, thread, None, None, line))


def from_action(body: dict[str, Any], line: str) -> Delivery:
    """A button click, standing for the chat line `line` (the button's value)."""
    user = body["user"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    message = body.get("message") or {}
    thread = message.get("thread_ts")
    action_ts = body["actions"][0]["action_ts"]
    inbound = Inbound(
        actor=_actor(user),
        text=line,
        channel=channel,
        is_dm=is_direct(channel),
        thread=thread,
        # A second click is a second action (its own action_ts); the same click delivered twice
        # (a retry, two replicas) has the same key.
        idempotency_key=f"slack:action:{_team(body)}:{user['id']}:{action_ts}",
    )
    return Delivery(inbound, Target(user["id"], channel, thread, body.get("response_url"), body.get("trigger_id"), line))


def from_view(body: dict[str, Any], line: str, channel: str, thread: str | None) -> Delivery:
    """A modal submitted: `line` is what it stands for; channel and thread come from the modal's
    private metadata (set by opsgate when it opened the modal)."""
    user, view = body["user"], body["view"]
    inbound = Inbound(
        actor=_actor(user),
        text=line,
        channel=channel,
        is_dm=is_direct(channel),
        thread=thread,
        idempotency_key=f"slack:view:{_team(body)}:{user['id']}:{view['id']}",
    )
    return Delivery(inbound, Target(user["id"], channel, thread, None, body.get("trigger_id"), line))


def _actor(user: dict[str, Any]) -> Actor:
    """The user of an interactive payload (a click, a form): the id decides, the name is shown."""
    return Actor(PLATFORM, user["id"], user.get("name") or user.get("username", ""))


def _team(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    return team.get("id", "") if isinstance(team, dict) else str(team)
