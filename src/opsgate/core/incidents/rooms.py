"""Opening an incident's room through the IncidentRooms port, falling back when the platform refuses.

channel mode: a dedicated channel named from the pattern; if it cannot be created, a thread in the
incidents channel; if that fails too (or there is no incidents channel), no room: the incident is
addressed by its id. Every fallback is said, never silent. A channel's responders are invited; a
thread's are mentioned in its first message (a thread has no members of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from opsgate.domain.catalog import Catalog
from opsgate.domain.incident import Incident, IncidentSettings, RoomKind, channel_name
from opsgate.domain.message import Mention
from opsgate.domain.rooms import ChatMessage, InviteOutcome, OpenedRoom, RoomUnavailable
from opsgate.ports import IncidentRooms


@dataclass
class Opened:
    incident: Incident  # with its room filled in
    notes: list[str] = field(default_factory=list)  # what happened, for people and the timeline
    url: str | None = None


def open_room(rooms: IncidentRooms, settings: IncidentSettings, incident: Incident, thread_text: str,
              mentions: tuple[Mention, ...] = ()) -> Opened:
    """`mentions`: who a thread's first message notifies (a thread has no members to invite)."""
    notes: list[str] = []
    if settings.mode is RoomKind.CHANNEL:
        name = channel_name(settings.channel_name, number=incident.number, title=incident.title,
                            severity=incident.severity, declared_at=incident.declared_at)
        try:
            room = rooms.create_channel(name, private=settings.private)
        except RoomUnavailable as err:
            notes.append(f"Could not create the channel #{name} ({err.reason})")
        else:
            opened = replace(incident, room=RoomKind.CHANNEL, channel=room.channel, room_name=f"#{room.name}")
            return Opened(opened, [f"Created the channel #{room.name}"], room.url)
    if settings.channel is None:
        notes.append(f"No incidents channel is configured for a thread: commands need `id={incident.id}`")
        return Opened(incident, notes)
    try:
        ts = rooms.start_thread(settings.channel, thread_text, mentions)
    except RoomUnavailable as err:
        notes.append(f"Could not start a thread in {settings.channel} ({err.reason}): commands need "
                     f"`id={incident.id}`")
        return Opened(incident, notes)
    notes.append(f"The room is a thread in the incidents channel ({settings.channel})")
    return Opened(replace(incident, room=RoomKind.THREAD, channel=settings.channel, thread=ts,
                          room_name=f"a thread in {settings.channel}"), notes)


def invite(rooms: IncidentRooms, catalog: Catalog, channel: str, person_ids: list[str],
           group_ids: tuple[str, ...]) -> list[str]:
    """Invite people (by catalog id) and groups to a channel; returns the problems, for people."""
    user_ids, problems = platform_ids(rooms.platform, catalog, person_ids)
    if not user_ids and not group_ids:
        return problems
    try:
        outcome = rooms.invite(channel, tuple(user_ids), group_ids)
    except RoomUnavailable as err:
        return problems + [f"could not invite ({err.reason})"]
    return problems + list(outcome.problems)


def platform_ids(platform: str, catalog: Catalog, person_ids: list[str]) -> tuple[list[str], list[str]]:
    """Catalog people's ids on `platform`, and the problems (people without one), for people."""
    problems: list[str] = []
    user_ids: list[str] = []
    for person_id in dict.fromkeys(person_ids):
        entry = catalog.people.get(person_id)
        user_id = entry.identities.get(platform) if entry else None
        if user_id is None:
            problems.append(f"{person_id} has no {platform} id in the catalog")
        else:
            user_ids.append(user_id)
    return user_ids, problems


class NoRooms:
    """For a chat without room operations: every incident falls back to a thread-less announcement."""

    platform = "none"

    def create_channel(self, name: str, *, private: bool) -> OpenedRoom:
        raise RoomUnavailable("this chat cannot open channels")

    def start_thread(self, channel: str, text: str, mentions: tuple[Mention, ...] = ()) -> str:
        raise RoomUnavailable("this chat cannot start threads")

    def invite(self, channel: str, user_ids: tuple[str, ...], group_ids: tuple[str, ...]) -> InviteOutcome:
        raise RoomUnavailable("this chat cannot invite")

    def fetch_message(self, channel: str, ts: str) -> ChatMessage | None:
        return None

    def share_document(self, channel: str, thread: str | None, filename: str, title: str, text: str) -> None:
        raise RoomUnavailable("this chat cannot share files")
