"""After the ack: each line runs on a worker thread (the core is synchronous) and is answered
from there — ephemeral answers to the person through Slack's response_url (or
chat.postEphemeral), results into the outbox for the channel, a modal when the reply needs
something.

Listeners ack first and call `start()`, which only queues the line: the event loop, which acks
every request, does no work for a line after its ack (no HTTP calls, no database), so Slack's
3-second limit is met whatever lines do and however many are queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from opsgate import log_context, metrics
from opsgate.adapters.chat.slack import blocks, modals
from opsgate.adapters.chat.slack.chat import SlackChat
from opsgate.adapters.chat.slack.errors import SlackSendError, map_slack_errors
from opsgate.adapters.chat.slack.inbound import Delivery
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Link, Reply
from opsgate.domain.pages import PAGE_LABELS, PageLinks

log = logging.getLogger("opsgate.slack.runner")

RESPONSE_URL_TIMEOUT_S = 10


class LineRunner:
    def __init__(self, handle: Callable[[Inbound], Reply], chat: SlackChat, client: WebClient, *, threads: int,
                 pages: PageLinks | None = None) -> None:
        self.handle = handle
        self.pages = pages or PageLinks()  # answers about a request link to its page
        self.chat = chat
        self.client = client
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="opsgate-line")
        self._running = 0
        self._idle = threading.Condition()

    def start(self, delivery: Delivery) -> None:
        self._submit(self._run, delivery)

    def ask_deny_reason(self, delivery: Delivery, request_id: str) -> None:
        """A Deny click: open the form that asks for the reason (the line runs when it is sent)."""
        self._submit(self._open_deny_form, delivery, request_id)

    def _submit(self, work: Callable[..., Any], *args: Any) -> None:
        with self._idle:
            self._running += 1
        # The line's thread logs with the ids bound here (the HTTP request that brought it).
        self._pool.submit(log_context.carried(work), *args).add_done_callback(self._finished)

    @property
    def running(self) -> int:
        """Lines queued or running, not yet answered."""
        with self._idle:
            return self._running

    def drain(self, timeout_s: float) -> bool:
        """Wait for the lines in hand (shutdown); False if some were still running at the timeout."""
        with self._idle:
            done = self._idle.wait_for(lambda: self._running == 0, timeout_s)
        self._pool.shutdown(wait=done)
        return done

    def open_modal(self, trigger_id: str | None, view: dict[str, Any] | None) -> bool:
        if not trigger_id or view is None:
            return False
        try:
            with map_slack_errors("views.open"):
                self.client.views_open(trigger_id=trigger_id, view=view)
            return True
        except SlackSendError as err:  # the trigger ran out (3 s), or the view was refused
            log.info("could not open a modal; answering in text", extra={"error": err.error})
            return False

    def answer(self, delivery: Delivery, reply: Reply) -> None:
        """Results to the channel (through the outbox), everything else to the person only."""
        target = delivery.target
        if not reply.ephemeral:
            self.chat.queue_result(reply, delivery.inbound.channel, delivery.inbound.thread)
        elif not (target.response_url and self._respond(target.response_url, reply)):
            self.chat.queue_ephemeral(reply, target.user, target.channel, target.thread)

    # -- one line ---------------------------------------------------------------------------------

    def _run(self, delivery: Delivery) -> None:
        with log_context.bound(delivery=delivery.inbound.idempotency_key):
            reply = self.handle(delivery.inbound)
            if reply.repeat or reply.quiet:
                return  # the first delivery of the same click or command answers; a quiet reply needs none
            if reply.needs and self.open_modal(delivery.target.trigger_id, self._modal_for(reply, delivery)):
                return
            with log_context.bound(request_id=reply.request_id):
                self.answer(delivery, reply)

    def _open_deny_form(self, delivery: Delivery, request_id: str) -> None:
        """If Slack refuses the form (the 3-second trigger ran out), say how to type it instead."""
        target = delivery.target
        if self.open_modal(target.trigger_id, modals.deny_view(request_id, target.channel, target.thread)):
            return
        self.answer(delivery, Reply(f'Could not open the form. To deny, type `/ops deny {request_id} reason="why"`.',
                                    ok=False))

    def _modal_for(self, reply: Reply, delivery: Delivery) -> dict[str, Any] | None:
        target = delivery.target
        if reply.needs == "confirm" and reply.request_id and reply.confirm_text:
            return modals.confirm_view(reply.request_id, reply.confirm_text, reply.text, target.channel, target.thread)
        if reply.needs == "link":
            return modals.link_view(target.line, reply.text, target.channel, target.thread)
        return None

    def _respond(self, response_url: str, reply: Reply) -> bool:
        try:
            answer = WebhookClient(response_url, timeout=RESPONSE_URL_TIMEOUT_S).send(
                text=blocks.fallback_text(reply.text),
                blocks=blocks.blocks(reply.text, reply.buttons, self._links(reply)),
                response_type="ephemeral", replace_original=False)
        except Exception as err:  # network: the outbox's chat.postEphemeral has retries
            log.warning("response_url failed; answering with chat.postEphemeral", extra={"error": str(err)[:200]})
            return False
        if answer.status_code != 200:
            log.warning("response_url refused; answering with chat.postEphemeral", extra={"status": answer.status_code})
            return False
        metrics.MESSAGES_SENT.labels("slack").inc()
        return True

    def _links(self, reply: Reply) -> tuple[Link, ...]:
        page = self.pages.request(reply.request_id)
        return (Link(PAGE_LABELS["request"], page),) if page else ()

    def _finished(self, future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error("answering a Slack line failed", exc_info=future.exception())
        with self._idle:
            self._running -= 1
            self._idle.notify_all()
