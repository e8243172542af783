"""The Bolt app: one listener per kind of payload, each acks at once and hands the line on.

`process_before_response=True` with inline acks: Bolt answers Slack as soon as a listener
returns (no polling for the ack), and listeners return at once because the work is handed on
(`Lines`: to worker threads in this process, or to the line process — see `line_process`). Every listener only converts the payload (see `inbound`) — none
decides anything.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from opsgate.adapters.chat.slack import inbound, modals, pins
from opsgate.adapters.chat.slack.blocks import ACTION_PREFIX, action_verb
from opsgate.adapters.chat.slack.inbound import Delivery

log = logging.getLogger("opsgate.slack.app")

COMMAND = "/ops"


class Lines(Protocol):
    """Where acked lines go: `LineRunner` (threads here) or `LineProcess` (another process)."""

    def start(self, delivery: Delivery) -> None: ...

    def ask_deny_reason(self, delivery: Delivery, request_id: str) -> None: ...


def build_bolt_app(runner: Lines, client: AsyncWebClient, *, signing_secret: str | None) -> AsyncApp:
    """`signing_secret` None: Socket Mode only (its requests come over an authenticated connection)."""
    app = AsyncApp(client=client, signing_secret=signing_secret or "", process_before_response=True,
                   request_verification_enabled=signing_secret is not None,
                   logger=logging.getLogger("opsgate.slack.bolt"))

    @app.command(COMMAND)
    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        runner.start(inbound.from_command(body))

    @app.event("app_mention")
    async def on_mention(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        _run_event(runner, body)

    @app.event("message")
    async def on_message(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if inbound.is_direct(body["event"].get("channel", ""), body["event"].get("channel_type")):
            _run_event(runner, body)  # in channels only mentions are lines

    @app.event("reaction_added")
    async def on_reaction(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        delivery = pins.from_reaction(body)  # a 📌 adds the message to an incident's timeline
        if delivery is not None:
            runner.start(delivery)

    @app.event(re.compile(r".*"))
    async def on_other_event(ack: AsyncAck) -> None:
        await ack()  # unanswered events are retried by Slack, and eventually switched off

    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        line = action.get("value") or ""
        if action_verb(action["action_id"]) == "deny":  # a reason first
            request_id = line.split()[1] if len(line.split()) > 1 else ""
            runner.ask_deny_reason(inbound.from_action(body, f"deny {request_id}"), request_id)
            return
        runner.start(inbound.from_action(body, line))

    @app.action(re.compile(r".*"))
    async def on_other_action(ack: AsyncAck) -> None:
        await ack()  # link buttons and the like

    @app.view(re.compile("^(" + "|".join(re.escape(c) for c in modals.CALLBACKS) + ")$"))
    async def on_modal(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        errors = modals.mismatch(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        answer = modals.submitted(view)
        runner.start(inbound.from_view(body, answer.line, answer.channel, answer.thread))

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack listener failed", exc_info=error, extra={"type": (body or {}).get("type")})

    return app


def _run_event(runner: Lines, body: dict[str, Any]) -> None:
    delivery = inbound.from_message_event(body)
    if delivery is not None:
        runner.start(delivery)

