"""Queueing chat messages in the caller's transaction, and naming people to mention."""

from __future__ import annotations

from collections.abc import Collection

from opsgate.domain.catalog import Catalog
from opsgate.domain.message import Mention, Message
from opsgate.domain.notification_rules import Mentions
from opsgate.ports import Chat, Transaction


def queue(chat: Chat, tx: Transaction, message: Message) -> None:
    """Into the outbox with the change it reports (commits or rolls back with it). A chat without
    an outbox (the console, test fakes) shows it at once."""
    queue_in = getattr(chat, "queue", None)
    if queue_in is None:
        chat.post(message)
    else:
        queue_in(tx, message)


def wake(chat: Chat) -> None:
    """After commit: tell an outbox chat to send now."""
    send_now = getattr(chat, "wake", None)
    if send_now is not None:
        send_now()


def still_queued(chat: Chat, tx: Transaction, subjects: Collection[str]) -> set[str]:
    """Subjects with a message not yet sent (none for a chat that shows messages at once)."""
    queued = getattr(chat, "still_queued", None)
    return set() if queued is None or not subjects else queued(tx, subjects)


def platform_of(chat: Chat) -> str:
    return getattr(chat, "platform", "console")


def mentions(catalog: Catalog, platform: str, who: Mentions) -> tuple[Mention, ...]:
    """Catalog people by their id on `platform` (people without one are left out), then groups."""
    people = [catalog.people[p].identities.get(platform) for p in who.people if p in catalog.people]
    return tuple(Mention(user) for user in people if user) + tuple(Mention(group, group=True) for group in who.groups)
