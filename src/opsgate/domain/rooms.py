"""Chat rooms opsgate opens for incidents: a dedicated channel, or a thread; who was invited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsgate.errors import OpsgateError


class RoomUnavailable(OpsgateError):
    """The chat platform would not open the room (or invite, or read); `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    channel: str  # the platform's channel id
    name: str  # as people see it, without '#'
    url: str | None = None  # a link that opens it


@dataclass(frozen=True, slots=True)
class InviteOutcome:
    invited: tuple[str, ...] = ()  # platform user ids now in the room (or already there)
    problems: tuple[str, ...] = ()  # "U0BOB: user_not_found", "S0ONCALL: no such group": shown to people


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A message read back from the chat platform (one that was pinned, for the timeline)."""

    channel: str
    ts: str
    text: str
    author: str | None = None  # platform user id
    thread: str | None = None  # the root of its thread, if it is in one
    at: datetime | None = None  # when it was posted
