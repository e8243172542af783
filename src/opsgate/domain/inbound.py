"""A line or click as it reaches the dispatcher, whatever the chat platform."""

from __future__ import annotations

from dataclasses import dataclass

from opsgate.domain.identity import Actor


@dataclass(frozen=True, slots=True)
class Inbound:
    actor: Actor
    text: str  # the command line, without the "/ops" prefix or a bot mention
    channel: str
    is_dm: bool = False
    thread: str | None = None
    idempotency_key: str | None = None  # Slack retry / click id; a repeat runs nothing
