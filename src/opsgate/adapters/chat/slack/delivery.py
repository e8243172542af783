"""Sends outbox items to the Slack Web API: in order per request, updating a request's message in
place, honouring 429 Retry-After, retrying outages with backoff, giving up only on messages that
can never be sent.

Delivery is at-least-once around a crash: an item is leased before it is sent and removed after;
a process killed between the send and the removal sends it again when the lease runs out. A
restart (SIGTERM) finishes the item in flight first, so it neither loses nor repeats a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from opsgate.adapters.chat.slack import blocks
from opsgate.adapters.chat.slack.chat import PLATFORM, decode
from opsgate.adapters.chat.slack.errors import RateLimited, Undeliverable, Unavailable, map_slack_errors
from opsgate.domain.message import Link, Message
from opsgate.ports import Clock, MessageRef, OutboxItem, Store

log = logging.getLogger("opsgate.slack.delivery")

MAX_BACKOFF_S = 300.0
GIVE_UP_AFTER = 30  # attempts: about two hours of outage at the maximum backoff
_MESSAGE_GONE = ("message_not_found", "cant_update_message", "edit_window_closed")


class OutboxDelivery:
    def __init__(self, store: Store, client: WebClient, clock: Clock, *,
                 request_page: Callable[[str], str | None] = lambda _id: None,
                 batch: int = 20, lease_s: float = 60.0) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.request_page = request_page
        self.batch = batch
        self.lease_s = lease_s

    def deliver_due(self) -> int:
        """Send what is due now; returns how many items were sent."""
        with self.store.transaction() as tx:
            items = tx.outbox_due(PLATFORM, self.clock.now(), limit=self.batch, lease_s=self.lease_s)
        held: dict[str, datetime] = {}  # channel → until: Slack said slow down there
        sent = 0
        for item in items:
            channel = item.payload["channel"]
            if channel in held:
                self._retry(item, held[channel], "waiting for the channel's rate limit")
                continue
            try:
                ref = self._send(item)
            except RateLimited as err:
                held[channel] = self.clock.now() + timedelta(seconds=err.retry_after_s)
                self._retry(item, held[channel], err.error)
            except Undeliverable as err:
                log.warning("slack message undeliverable", extra={"item": item.id, "error": err.error})
                with self.store.transaction() as tx:
                    tx.outbox_give_up(item.id, err.error)
            except Unavailable as err:
                self._backoff(item, err.error)
            else:
                with self.store.transaction() as tx:
                    if ref is not None:
                        tx.message_ref_put(PLATFORM, item.order_key, ref, self.clock.now())
                    tx.outbox_done(item.id)
                sent += 1
        return sent

    # -- one item ---------------------------------------------------------------------------------

    def _send(self, item: OutboxItem) -> MessageRef | None:
        """Send one item; returns the request's message ref when it is new or moved."""
        kind, message = decode(item.payload)
        if kind == "ephemeral":
            self._call("chat.postEphemeral", self.client.chat_postEphemeral, channel=message.channel,
                       user=message.ephemeral_to, thread_ts=message.thread, **self._content(message))
            return None
        if kind == "post" or message.request_id is None:
            self._post(message, message.thread)
            return None
        with self.store.transaction() as tx:
            ref = tx.message_ref_get(PLATFORM, message.request_id)
        if kind == "result":
            if ref is None:  # nothing was posted about the request: this answer becomes its message
                return self._post(message, message.thread)
            self._post(Message(message.text, ref.channel, buttons=message.buttons), ref.ts)
            return None
        if ref is not None:  # kind == "notice": the request's message changes in place
            try:
                self._call("chat.update", self.client.chat_update, channel=ref.channel, ts=ref.ts,
                           **self._content(message))
                return None
            except Undeliverable as err:
                if err.error not in _MESSAGE_GONE:
                    raise
                log.info("request message gone; posting it anew", extra={"request_id": message.request_id})
        return self._post(message, message.thread)

    def _post(self, message: Message, thread: str | None) -> MessageRef:
        answer = self._call("chat.postMessage", self.client.chat_postMessage, channel=message.channel,
                            thread_ts=thread, **self._content(message))
        return MessageRef(channel=answer.get("channel") or message.channel, ts=answer["ts"])

    def _content(self, message: Message) -> dict[str, Any]:
        links = message.links
        page = self.request_page(message.request_id) if message.request_id else None
        if page:
            links = links + (Link("Request page", page),)
        return {"text": blocks.fallback_text(message.text),
                "blocks": blocks.blocks(message.text, message.buttons, links)}

    def _call(self, method: str, call: Callable[..., Any], **arguments: Any) -> Any:
        arguments = {key: value for key, value in arguments.items() if value is not None}
        with map_slack_errors(method):
            return call(**arguments)

    # -- outcomes ---------------------------------------------------------------------------------

    def _retry(self, item: OutboxItem, due: datetime, error: str) -> None:
        with self.store.transaction() as tx:
            tx.outbox_retry_at(item.id, due, error)

    def _backoff(self, item: OutboxItem, error: str) -> None:
        if item.attempts + 1 >= GIVE_UP_AFTER:
            log.error("slack message given up after repeated failures", extra={"item": item.id, "error": error})
            with self.store.transaction() as tx:
                tx.outbox_give_up(item.id, error)
            return
        wait_s = min(2.0 ** item.attempts, MAX_BACKOFF_S)
        log.warning("slack unavailable; will retry", extra={"item": item.id, "error": error, "wait_s": wait_s})
        self._retry(item, self.clock.now() + timedelta(seconds=wait_s), error)
