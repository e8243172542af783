"""Chat-neutral messages: adapters render them for Slack, the console, ..."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a reply still needs from the person before the request can go on; a chat adapter may ask
# for it in a form (a Slack modal) instead of leaving them to type the next line.
Need = Literal["confirm", "link"]


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    command: str  # the chat line the click stands for, e.g. "approve r-abc12345"
    style: str = "default"  # "primary" | "danger" | "default"


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Mention:
    """Someone a message notifies: a person or a user group, by the platform's immutable id."""

    id: str  # Slack: U…/W… for a person, S… for a user group
    group: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    channel: str
    thread: str | None = None
    ephemeral_to: str | None = None  # platform user id: only they see it
    buttons: tuple[Button, ...] = ()
    request_id: str | None = None  # messages about one request are updated in place
    links: tuple[Link, ...] = ()  # e.g. the AWS console page of the execution
    # Messages about one subject other than a request ("alert-group/g-…", "deployment/d-…") are
    # updated in place too; the chat adapter links the subject's page.
    subject: str | None = None
    reply_to: str | None = None  # a subject: posted in the thread of that subject's message
    mentions: tuple[Mention, ...] = ()  # notified by this message (shown before the text)

    @property
    def updates(self) -> str | None:
        """The key of the message this one creates or updates in place, if any."""
        return self.request_id or self.subject


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to the person who sent a line."""

    text: str
    ephemeral: bool = True
    request_id: str | None = None
    buttons: tuple[Button, ...] = ()
    ok: bool = True  # False for refusals and errors
    needs: Need | None = None  # "confirm": type confirm_text; "link": run the line again with --link
    confirm_text: str | None = None
    repeat: bool = False  # a repeated delivery (same idempotency key): the first one answers
    quiet: bool = False  # answers nobody's question (a 📌 outside incident rooms): chat adapters may send nothing
