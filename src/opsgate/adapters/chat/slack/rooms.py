"""Incident rooms on Slack through the Web API: create a channel, invite people and user groups,
start a thread, read back a message that was pinned.

These calls are made directly (not through the outbox): opsgate needs their answers (the new
channel's id, the thread's ts) to go on, and a failure has a fallback that the core reports. Slack
errors become RoomUnavailable with Slack's error code, which people can look up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from slack_sdk import WebClient

from opsgate.adapters.chat.slack import blocks
from opsgate.adapters.chat.slack.errors import SlackSendError, map_slack_errors
from opsgate.adapters.chat.slack.inbound import plain_text
from opsgate.domain.incident import CHANNEL_NAME_CHARS
from opsgate.domain.message import Mention
from opsgate.domain.rooms import ChatMessage, InviteOutcome, OpenedRoom, RoomUnavailable

PLATFORM = "slack"
NAME_ATTEMPTS = 9  # name, name-2, ..., name-9
INVITE_BATCH = 1000  # conversations.invite takes at most 1000 users per call
CHANNEL_URL = "https://slack.com/app_redirect?channel={channel}"


class SlackRooms:
    platform = PLATFORM

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def create_channel(self, name: str, *, private: bool) -> OpenedRoom:
        for attempt in range(1, NAME_ATTEMPTS + 1):
            suffix = "" if attempt == 1 else f"-{attempt}"
            candidate = name[:CHANNEL_NAME_CHARS - len(suffix)] + suffix
            try:
                answer = self._call("conversations.create", self.client.conversations_create, name=candidate,
                                    is_private=private)
            except RoomUnavailable as err:
                if err.reason.endswith("name_taken"):
                    continue
                raise
            channel = answer.get("channel") or {}
            if not channel.get("id"):
                raise RoomUnavailable("Slack created no channel (its answer had no channel id)")
            return OpenedRoom(channel=channel["id"], name=channel.get("name") or candidate,
                              url=CHANNEL_URL.format(channel=channel["id"]))
        raise RoomUnavailable(f"the names {name} to {name}-{NAME_ATTEMPTS} are all taken")

    def start_thread(self, channel: str, text: str, mentions: tuple[Mention, ...] = ()) -> str:
        answer = self._call("chat.postMessage", self.client.chat_postMessage, channel=channel,
                            text=blocks.fallback_text(text, mentions), blocks=blocks.blocks(text, mentions=mentions))
        return str(answer["ts"])

    def invite(self, channel: str, user_ids: tuple[str, ...], group_ids: tuple[str, ...]) -> InviteOutcome:
        problems: list[str] = []
        users = list(user_ids)
        for group in group_ids:
            try:
                members = self._call("usergroups.users.list", self.client.usergroups_users_list, usergroup=group)
            except RoomUnavailable as err:
                problems.append(f"group {group}: {err.reason}")
                continue
            users += members.get("users") or []
        users = list(dict.fromkeys(users))
        invited: list[str] = []
        for start in range(0, len(users), INVITE_BATCH):
            batch = users[start:start + INVITE_BATCH]
            try:
                # force: invite the valid ids even when some are not (their errors come back one by one)
                answer = self._call("conversations.invite", self.client.conversations_invite, channel=channel,
                                    users=",".join(batch), force=True)
            except RoomUnavailable as err:
                if not err.reason.endswith("already_in_channel"):
                    problems.append(f"{', '.join(batch)}: {err.reason}")
                continue
            failed = {e.get("user"): e.get("error") for e in answer.get("errors") or ()
                      if e.get("error") != "already_in_channel"}
            problems += [f"{user}: {error}" for user, error in failed.items()]
            invited += [user for user in batch if user not in failed]
        return InviteOutcome(tuple(invited), tuple(problems))

    def fetch_message(self, channel: str, ts: str) -> ChatMessage | None:
        # conversations.replies finds a message in a thread as well as one that starts (or is) a thread.
        window = {"channel": channel, "ts": ts, "oldest": ts, "latest": ts, "inclusive": True}
        try:
            answer = self._call("conversations.replies", self.client.conversations_replies, **window)
        except RoomUnavailable:
            window.pop("ts")
            answer = self._call("conversations.history", self.client.conversations_history, limit=1, **window)
        for message in answer.get("messages") or ():
            if message.get("ts") == ts:
                return ChatMessage(channel=channel, ts=ts, text=plain_text(message.get("text") or ""),
                                   author=message.get("user"), thread=message.get("thread_ts"),
                                   at=datetime.fromtimestamp(float(ts), tz=timezone.utc))
        return None

    def share_document(self, channel: str, thread: str | None, filename: str, title: str, text: str) -> None:
        arguments = {"thread_ts": thread} if thread else {}
        self._call("files.upload_v2", self.client.files_upload_v2, content=text.encode(), filename=filename,
                   title=title, channel=channel, **arguments)

    @staticmethod
    def _call(method: str, call: Callable[..., Any], **arguments: Any) -> Any:
        try:
            with map_slack_errors(method):
                return call(**arguments)
        except SlackSendError as err:
            raise RoomUnavailable(f"Slack answered {err.error.removeprefix(method + ': ')}") from None
