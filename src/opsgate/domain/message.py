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
class Message:
    text: str
    channel: str
    thread: str | None = None
    ephemeral_to: str | None = None  # platform user id: only they see it
    buttons: tuple[Button, ...] = ()
    request_id: str | None = None  # messages about one request are updated in place
    links: tuple[Link, ...] = ()  # e.g. the AWS console page of the execution


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
