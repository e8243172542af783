"""Sends outbox items to the Slack Web API: in order per request or subject, updating their message
in place, honouring 429 Retry-After, retrying outages with backoff, giving up only on messages that
can never be sent.

Pacing: Slack allows about one message per second per channel, tolerating short bursts. Each
channel takes `burst` messages (posts or updates) at once, then one every `pace_s`; items beyond
that are held back to the channel's next free turn (no attempt counted), so an alert storm is
spread out instead of answered with 429s. The turns are counted in the database, so several
replicas (or `serve --workers`) share one pace per channel. An update of a message that a newer
queued update of the same message replaces is skipped (coalesced).

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

from opsgate import log_context, metrics
from opsgate.adapters.chat.slack import blocks, uploads
from opsgate.adapters.chat.slack.chat import PLATFORM, decode
from opsgate.adapters.chat.slack.errors import RateLimited, Undeliverable, Unavailable, map_slack_errors
from opsgate.domain.message import Link, Message
from opsgate.domain.pages import PAGE_LABELS
from opsgate.ports import Clock, MessageRef, OutboxItem, Store

log = logging.getLogger("opsgate.slack.delivery")

MAX_BACKOFF_S = 300.0
GIVE_UP_AFTER = 30  # attempts: about two hours of outage at the maximum backoff
_MESSAGE_GONE = ("message_not_found", "cant_update_message", "edit_window_closed")


class OutboxDelivery:
    def __init__(self, store: Store, client: WebClient, clock: Clock, *,
                 request_page: Callable[[str], str | None] = lambda _id: None,
                 subject_page: Callable[[str, str], str | None] = lambda _kind, _id: None,
                 batch: int = 20, lease_s: float = 60.0, pace_s: float = 1.0, burst: int = 4) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.request_page = request_page
        self.subject_page = subject_page  # (kind, id) of a subject such as "alert-group/g-…" → its page
        self.batch = batch
        self.lease_s = lease_s
        self.pace_s = pace_s
        self.burst = max(1, burst)

    def deliver_due(self) -> int:
        """Send what is due now; returns how many items were sent."""
        with self.store.transaction() as tx:
            items = tx.outbox_due(PLATFORM, self.clock.now(), limit=self.batch, lease_s=self.lease_s)
        held: dict[str, datetime] = {}  # channel → until: Slack said slow down there
        sent = 0
        for item in items:
            with log_context.bound(message=item.order_key):  # the request or subject it is about
                channel = item.payload["channel"]
                if channel in held:
                    self._retry(item, held[channel], "waiting for the channel's rate limit")
                    continue
                if self._superseded(item):
                    continue
                if self._held_for_turn(item, channel):
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
                    metrics.MESSAGES_SENT.labels(PLATFORM).inc()
        return sent

    # -- pacing -----------------------------------------------------------------------------------

    def _held_for_turn(self, item: OutboxItem, channel: str) -> bool:
        """False: send now. True: the item was held back to its channel's next free turn, which
        it keeps (the outbox row notes it), so it is sent then without queueing again.

        Virtual scheduling (GCRA): a channel takes `burst` messages at once, then one per `pace_s`.
        The count lives in the database, so replicas and workers share each channel's turns."""
        if item.payload.get("kind") == "ephemeral" or self.pace_s <= 0:
            return False  # seen by one person, not posted to the channel
        now = self.clock.now()
        if item.turn_at is not None and item.turn_at <= now:
            return False  # held back earlier: this is its turn
        pace = timedelta(seconds=self.pace_s)
        with self.store.transaction() as tx:
            next_free = max(tx.pacing_next_free(PLATFORM, channel), now)
            allowed_at = next_free - pace * (self.burst - 1)
            tx.pacing_set(PLATFORM, channel, next_free + pace)
            if allowed_at > now:
                tx.outbox_defer(item.id, allowed_at)
        return allowed_at > now

    def _superseded(self, item: OutboxItem) -> bool:
        """An update of a subject's posted message (an alert group's) with a newer update of it
        queued right after: only the newer one is sent (the newer is what is true). Request
        messages tell a story step by step, so each of their updates is sent."""
        if item.payload.get("kind") != "notice" or not item.payload.get("subject") or item.payload.get("mentions"):
            return False
        with self.store.transaction() as tx:
            if tx.message_ref_get(PLATFORM, item.order_key) is None:
                return False  # not posted yet: this item posts it
            following = tx.outbox_next(PLATFORM, item.order_key, item.id)
            if following is None or following.payload.get("kind") != "notice":
                return False
            tx.outbox_done(item.id)
        return True

    # -- one item ---------------------------------------------------------------------------------

    def _send(self, item: OutboxItem) -> MessageRef | None:
        """Send one item; returns the request's message ref when it is new or moved."""
        if item.payload.get("kind") in uploads.KINDS:  # a chart under an alert's message
            uploads.send(item.payload, self.client, self.store)
            return None
        kind, message = decode(item.payload)
        if kind == "ephemeral":
            self._call("chat.postEphemeral", self.client.chat_postEphemeral, channel=message.channel,
                       user=message.ephemeral_to, thread_ts=message.thread, **self._content(message))
            return None
        if kind == "reply" and message.reply_to:  # in the thread of a subject's message
            with self.store.transaction() as tx:
                parent = tx.message_ref_get(PLATFORM, message.reply_to)
            self._post(message, parent.ts if parent else message.thread)
            return None
        if kind == "post" or message.updates is None:
            self._post(message, message.thread)
            return None
        with self.store.transaction() as tx:
            ref = tx.message_ref_get(PLATFORM, message.updates)
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
                log.info("message gone; posting it anew", extra={"updates": message.updates})
        return self._post(message, message.thread)

    def _post(self, message: Message, thread: str | None) -> MessageRef:
        answer = self._call("chat.postMessage", self.client.chat_postMessage, channel=message.channel,
                            thread_ts=thread, **self._content(message))
        return MessageRef(channel=answer.get("channel") or message.channel, ts=answer["ts"])

    def _content(self, message: Message) -> dict[str, Any]:
        links = message.links
        page = self.request_page(message.request_id) if message.request_id else None
        if page:
            links = links + (Link(PAGE_LABELS["request"], page),)
        if message.subject:
            kind, _, subject_id = message.subject.partition("/")
            page = self.subject_page(kind, subject_id)
            if page:
                links = links + (Link(PAGE_LABELS.get(kind, "Page"), page),)
        return {"text": blocks.fallback_text(message.text, message.mentions),
                "blocks": blocks.blocks(message.text, message.buttons, links, message.mentions)}

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
