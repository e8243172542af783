"""A chart and log lines in the thread of an alert's message, through the durable outbox.

`SlackAlertContext.post_context` queues, in one transaction, up to two outbox items with the alert
message's key (its subject, e.g. `alert-group/g-…`) as their order key, so they are sent after that
message and paced and retried like any other item:

  upload  the chart, this module's kind: Slack's external upload flow (`files.getUploadURLExternal`,
          the bytes POSTed to the URL it gives, `files.completeUploadExternal` with the channel and
          the thread), through slack_sdk's `files_upload_v2`
  reply   the log lines, the console link and what could not be fetched: the chat's own reply in
          the thread of a subject's message

The image travels in the outbox row as base64 (at most `MAX_IMAGE_BYTES`; CloudWatch's charts are
20-80 KB), so a restart or a retry needs no second AWS call and the chart shows the moment of the
alarm, not of the retry. The thread is the message remembered under the key (`message_ref`), read
when the item is sent; without one (the alert's message was given up) the chart goes to the
channel itself, as replies do. Delivery is at-least-once like every outbox item: a crash between
Slack's answer and the removal of the item shares the chart again.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from slack_sdk import WebClient

from opsgate.adapters.chat.slack.chat import PLATFORM, SlackChat
from opsgate.adapters.chat.slack.errors import Undeliverable, map_slack_errors
from opsgate.core.alert_context import context_text
from opsgate.domain.alert_context import PNG_SIGNATURE
from opsgate.domain.message import Link, Message
from opsgate.ports import AlertAttachments, OutboxItem, Store

UPLOAD = "upload"
KINDS = (UPLOAD,)
MAX_IMAGE_BYTES = 1024 * 1024
TITLE_CHARS = 250


def _filename(title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", title.split(":", 1)[0]).strip("-.")[:80]
    return f"{slug or 'chart'}.png"


def upload_payload(channel: str, message_key: str, png: bytes, title: str) -> dict[str, Any]:
    """ValueError if the bytes are not a PNG or are larger than MAX_IMAGE_BYTES."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("the chart is not a PNG image")
    if len(png) > MAX_IMAGE_BYTES:
        raise ValueError(f"the chart is {len(png)} bytes; at most {MAX_IMAGE_BYTES} are attached")
    title = " ".join(title.split())[:TITLE_CHARS] or "Chart"
    return {"kind": UPLOAD, "channel": channel, "message_key": message_key, "title": title,
            "filename": _filename(title), "png": base64.b64encode(png).decode("ascii")}


class SlackAlertContext:
    """The AlertContextChat port for Slack (the queueing side; `send` is the delivery side)."""

    def __init__(self, chat: SlackChat) -> None:
        self.chat = chat

    def post_context(self, channel: str, message_key: str, attachments: AlertAttachments) -> None:
        upload, problems = None, attachments.problems
        if attachments.chart_png:
            try:
                upload = upload_payload(channel, message_key, attachments.chart_png, attachments.chart_title)
            except ValueError as err:
                problems = problems + (f"Chart: {err}.",)
        links = (Link("Open in Logs Insights", attachments.log_query_url),) if attachments.log_query_url else ()
        text = context_text(AlertAttachments(log_lines=attachments.log_lines,
                                             log_query_url=attachments.log_query_url, problems=problems))
        if upload is None and not text:
            return
        with self.chat.store.transaction() as tx:
            if upload is not None:
                tx.outbox_add(OutboxItem(PLATFORM, message_key, upload), self.chat.clock.now())
            if text:
                self.chat.queue(tx, Message(text, channel, reply_to=message_key, links=links))
        self.chat.wake()


def send(payload: dict[str, Any], client: WebClient, store: Store) -> None:
    """Upload one chart into the thread of its alert's message (or the channel, without one)."""
    with store.transaction() as tx:
        parent = tx.message_ref_get(PLATFORM, payload["message_key"])
    try:
        png = base64.b64decode(payload["png"], validate=True)
    except (binascii.Error, ValueError):
        raise Undeliverable("invalid_image_in_outbox") from None
    with map_slack_errors("files.upload_v2"):
        client.files_upload_v2(content=png, filename=payload["filename"], title=payload["title"],
                               alt_txt=payload["title"], channel=parent.channel if parent else payload["channel"],
                               thread_ts=parent.ts if parent else None)
