"""A 📌 reaction → the line `incident pin channel=C… ts=…`, run like any other line.

The reacting person is the actor (their id from the signed event); the event id is the idempotency
key, so Slack's retries add the message once. Whether the channel is an incident's room, and what
the message says, the core finds out (through IncidentRooms.fetch_message); outside incident rooms
its answer is quiet and nothing is sent.
"""

from __future__ import annotations

from typing import Any

from opsgate.adapters.chat.slack.inbound import PLATFORM, Delivery, Target, is_direct
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound

PIN_REACTIONS = frozenset({"pushpin", "round_pushpin"})


def from_reaction(body: dict[str, Any]) -> Delivery | None:
    """None unless it is a pin reaction on a message."""
    event = body.get("event") or {}
    item = event.get("item") or {}
    reaction = str(event.get("reaction") or "").split("::", 1)[0]  # "pushpin::skin-tone-2"
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if reaction not in PIN_REACTIONS or item.get("type") != "message" or not (channel and ts and user):
        return None
    line = f"incident pin channel={channel} ts={ts}"
    inbound = Inbound(actor=Actor(PLATFORM, user, ""), text=line, channel=channel,
                      is_dm=is_direct(channel, item.get("channel_type")),
                      idempotency_key=f"slack:event:{body.get('event_id', '')}")
    return Delivery(inbound, Target(user, channel, None, None, None, line))
