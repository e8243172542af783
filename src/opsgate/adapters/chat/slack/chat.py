"""The Chat port for Slack: every message goes into the durable outbox, then `delivery` sends it.

Writing to the outbox is one small transaction, so a notification survives a restart and the
caller never waits for Slack. Four kinds of item:

  notice     news about a request or another subject (`Message.request_id`, `.subject`, such as
             an alert group): its message is updated in place
  result     the answer to a line that the channel should see: in the thread of the request's message
  reply      in the thread of a subject's message (`Message.reply_to`: an alert group's details)
  post       any other message to a channel (or a thread)
  ephemeral  only one person sees it (an answer when Slack gave no response_url)

`queue(tx, message)` writes the item in the caller's transaction (the notification pipeline queues
a group's message together with the group's new state); `post` opens its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from opsgate.domain.message import Button, Link, Mention, Message, Reply
from opsgate.ports import Clock, OutboxItem, Store, Transaction

PLATFORM = "slack"


def encode(kind: str, message: Message) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": message.text,
        "channel": message.channel,
        "thread": message.thread,
        "user": message.ephemeral_to,
        "request_id": message.request_id,
        "buttons": [[b.label, b.command, b.style] for b in message.buttons],
        "links": [[link.label, link.url] for link in message.links],
        "subject": message.subject,
        "reply_to": message.reply_to,
        "mentions": [[m.id, m.group] for m in message.mentions],
    }


def decode(payload: dict[str, Any]) -> tuple[str, Message]:
    return payload["kind"], Message(
        text=payload["text"],
        channel=payload["channel"],
        thread=payload.get("thread"),
        ephemeral_to=payload.get("user"),
        request_id=payload.get("request_id"),
        buttons=tuple(Button(*b) for b in payload.get("buttons", ())),
        links=tuple(Link(*link) for link in payload.get("links", ())),
        subject=payload.get("subject"),
        reply_to=payload.get("reply_to"),
        mentions=tuple(Mention(m_id, bool(group)) for m_id, group in payload.get("mentions", ())),
    )


class SlackChat:
    platform = PLATFORM

    def __init__(self, store: Store, clock: Clock, *, wake: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.clock = clock
        self.wake = wake  # tells the delivery there is something to send (it also polls)

    def post(self, message: Message) -> None:
        with self.store.transaction() as tx:
            self.queue(tx, message)
        self.wake()

    def queue(self, tx: Transaction, message: Message) -> None:
        """The OutboxChat port: the item commits (or not) with the caller's transaction."""
        if message.ephemeral_to:
            kind = "ephemeral"
        elif message.updates:
            kind = "notice"
        else:
            kind = "reply" if message.reply_to else "post"
        self._add(tx, kind, message)

    def still_queued(self, tx: Transaction, subjects: Collection[str]) -> set[str]:
        """The OutboxChat port. A subject's messages are queued under the subject (see `_add`)."""
        return tx.outbox_waiting(PLATFORM, subjects)

    def queue_result(self, reply: Reply, channel: str, thread: str | None) -> None:
        """A reply everyone in the channel should see: under its request's message, or as a new
        message in the thread the line came from."""
        message = Message(reply.text, channel, thread, request_id=reply.request_id, buttons=reply.buttons)
        self._queue("result" if reply.request_id else "post", message)

    def queue_ephemeral(self, reply: Reply, user: str, channel: str, thread: str | None) -> None:
        self._queue("ephemeral", Message(reply.text, channel, thread, ephemeral_to=user, buttons=reply.buttons,
                                         request_id=reply.request_id))  # the delivery links its page

    def _queue(self, kind: str, message: Message) -> None:
        with self.store.transaction() as tx:
            self._add(tx, kind, message)
        self.wake()

    def _add(self, tx: Transaction, kind: str, message: Message) -> None:
        # Everything about one request or subject is sent in order: an update never overtakes its
        # message, and a reply in its thread waits for it.
        order_key = message.updates or message.reply_to or message.channel
        tx.outbox_add(OutboxItem(PLATFORM, order_key, encode(kind, message)), self.clock.now())
