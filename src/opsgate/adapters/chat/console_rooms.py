"""Incident rooms in the console: nothing to create, so what would happen is printed.

A channel "created" here is named `#<name>`; messages posted to it are printed by ConsoleChat with
that name. The console keeps no message history, so there is nothing to pin.
"""

from __future__ import annotations

import itertools

from rich.console import Console

from opsgate.domain.message import Mention
from opsgate.domain.rooms import ChatMessage, InviteOutcome, OpenedRoom

PLATFORM = "console"


class ConsoleRooms:
    platform = PLATFORM

    def __init__(self, console: Console) -> None:
        self.console = console
        self._threads = itertools.count(1)

    def create_channel(self, name: str, *, private: bool) -> OpenedRoom:
        self._say(f"created the {'private ' if private else ''}channel #{name}")
        return OpenedRoom(channel=f"#{name}", name=name)

    def start_thread(self, channel: str, text: str, mentions: tuple[Mention, ...] = ()) -> str:
        ts = f"thread-{next(self._threads)}"
        named = ", ".join(f"group {m.id}" if m.group else m.id for m in mentions)
        self._say(f"started a thread ({ts}) in {channel}: {text}" + (f"\n  mentioning {named}" if named else ""))
        return ts

    def invite(self, channel: str, user_ids: tuple[str, ...], group_ids: tuple[str, ...]) -> InviteOutcome:
        invited = ", ".join((*user_ids, *(f"group {g}" for g in group_ids)))
        self._say(f"invited {invited} to {channel}")
        return InviteOutcome(invited=user_ids)

    def fetch_message(self, channel: str, ts: str) -> ChatMessage | None:
        return None

    def share_document(self, channel: str, thread: str | None, filename: str, title: str, text: str) -> None:
        self._say(f"shared {filename} ({title}) in {channel}:\n{text}")

    def _say(self, text: str) -> None:
        self.console.print(f"[console] {text}", markup=False, highlight=False, style="cyan")
