"""Charts and log lines under an alert's message: through the outbox (SQLite and PostgreSQL) to a
local Slack Web API over real HTTP with slack_sdk's real upload flow, and printed by the console."""

from __future__ import annotations

import base64
import io

import pytest
from rich.console import Console
from slack_sdk import WebClient

from opsgate.adapters.chat.console import ConsoleChat
from opsgate.adapters.chat.slack.chat import SlackChat
from opsgate.adapters.chat.slack.delivery import OutboxDelivery
from opsgate.adapters.chat.slack.manifest import manifest
from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.adapters.chat.slack.uploads import MAX_IMAGE_BYTES, SlackAlertContext
from opsgate.adapters.store import open_store
from opsgate.domain.message import Message
from opsgate.ports import AlertAttachments, MessageRef
from opsgate.sandbox.moto_extensions.chart_png import LineChart
from opsgate.testing import FakeClock

KEY = "alert-group/g-7k2m9qd4"  # the subject of the alert group's message
PNG = LineChart(120, 80, 0, 10, series=[[(0, 1.0), (5, 9.0), (10, 2.0)]], horizontal=[5.0]).png()
TITLE = "web-5xx-high: AWS/ApplicationELB HTTPCode_Target_5XX_Count (Sum, 300 s)"
LINES = ("2026-03-02 08:59:00.000 ERROR 502 from payments <!channel>", "2026-03-02 08:58:00.000 ERROR timeout")
URL = "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights"


@pytest.fixture
def parts(api, database_url):
    store = open_store(database_url)
    clock = FakeClock()
    delivery = OutboxDelivery(store, WebClient(token="xoxb-test", base_url=api.base_url), clock)
    chat = SlackChat(store, clock)
    yield chat, SlackAlertContext(chat), delivery, clock, store
    store.close()


def post_alert(chat: SlackChat, delivery: OutboxDelivery, api: LocalSlackApi) -> str:
    """The alert group's message, posted as the pipeline posts it; returns its ts."""
    chat.post(Message("🔴 web-5xx-high is firing", "C1", subject=KEY))
    assert delivery.deliver_due() == 1
    return api.calls_to("chat.postMessage")[-1].answer["ts"]


def drain(delivery: OutboxDelivery, clock: FakeClock, seconds: int = 10) -> int:
    """Deliver for `seconds` of test time (channels are paced), counting what was sent."""
    total = 0
    for _ in range(seconds):
        total += delivery.deliver_due()
        clock.advance(1)
    return total


def test_the_chart_is_uploaded_into_the_alerts_thread_by_the_external_flow(api, parts):
    chat, context, delivery, clock, _ = parts
    ts = post_alert(chat, delivery, api)
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    assert drain(delivery, clock) == 1
    assert [c.method for c in api.calls][-3:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [asked] = api.calls_to("files.getUploadURLExternal")
    assert (asked.args["filename"], int(asked.args["length"])) == ("web-5xx-high.png", len(PNG))
    [complete] = api.calls_to("files.completeUploadExternal")
    assert (complete.args["channel_id"], complete.args["thread_ts"]) == ("C1", ts)
    assert complete.args["files"] == [{"id": asked.answer["file_id"], "title": TITLE}]
    assert api.uploads[asked.answer["file_id"]] == PNG  # byte for byte


def test_the_log_lines_are_a_reply_in_the_thread_escaped_with_the_console_link(api, parts):
    chat, context, delivery, clock, _ = parts
    ts = post_alert(chat, delivery, api)
    context.post_context("C1", KEY, AlertAttachments(log_lines=LINES, log_query_url=URL, problems=("Chart: denied",)))
    assert drain(delivery, clock) == 1
    note = api.calls_to("chat.postMessage")[-1].args
    assert (note["channel"], note["thread_ts"]) == ("C1", ts)
    assert "ERROR 502 from payments &lt;!channel&gt;" in note["text"]  # a log line cannot ping anyone
    assert "_Chart: denied_" in note["text"]
    assert f"<{URL}|Open in Logs Insights>" in str(note["blocks"])


def test_chart_and_lines_wait_for_the_alerts_message_and_follow_it(api, parts):
    chat, context, delivery, clock, _ = parts
    api.fail_next("chat.postMessage", status=500, error="internal_error")
    chat.post(Message("🔴 web-5xx-high is firing", "C1", subject=KEY))
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE, log_lines=LINES))
    assert delivery.deliver_due() == 0  # the message failed; nothing behind it is sent
    assert not api.calls_to("files.getUploadURLExternal")
    clock.advance(1)
    assert drain(delivery, clock) == 3
    message, note = api.calls_to("chat.postMessage")[1:]
    assert note.args["thread_ts"] == message.answer["ts"]
    assert api.calls_to("files.completeUploadExternal")[0].args["thread_ts"] == message.answer["ts"]


def test_the_thread_is_the_message_remembered_under_the_key_when_the_chart_is_sent(api, parts):
    _, context, delivery, clock, store = parts
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    with store.transaction() as tx:  # posted (or moved) after the chart was queued
        tx.message_ref_put("slack", KEY, MessageRef("C7", "1700000000.000042"), clock.now())
    assert delivery.deliver_due() == 1
    [complete] = api.calls_to("files.completeUploadExternal")
    assert (complete.args["channel_id"], complete.args["thread_ts"]) == ("C7", "1700000000.000042")


def test_without_the_alerts_message_the_chart_goes_to_the_channel(api, parts):
    chat, context, delivery, clock, _ = parts
    api.fail_next("chat.postMessage", error="msg_too_long")  # the alert's message is given up
    chat.post(Message("🔴 web-5xx-high is firing", "C1", subject=KEY))
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    drain(delivery, clock)
    [complete] = api.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C1" and "thread_ts" not in complete.args


def test_a_failed_upload_is_retried_and_shared_once(api, parts):
    chat, context, delivery, clock, store = parts
    post_alert(chat, delivery, api)
    api.fail_next("upload", status=500, error="internal_error")
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    assert delivery.deliver_due() == 0
    assert not api.calls_to("files.completeUploadExternal")
    clock.advance(1)
    assert delivery.deliver_due() == 1
    [complete] = api.calls_to("files.completeUploadExternal")
    first, second = api.calls_to("files.getUploadURLExternal")
    assert complete.args["files"][0]["id"] == second.answer["file_id"] != first.answer["file_id"]
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_a_rate_limited_completion_waits_for_retry_after(api, parts):
    chat, context, delivery, clock, _ = parts
    post_alert(chat, delivery, api)
    api.fail_next("files.completeUploadExternal", status=429, headers={"Retry-After": "20"})
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    assert delivery.deliver_due() == 0
    clock.advance(19)
    assert delivery.deliver_due() == 0
    clock.advance(1)
    assert delivery.deliver_due() == 1
    assert len(api.calls_to("files.completeUploadExternal")) == 2


def test_a_channel_the_bot_cannot_post_in_is_given_up(api, parts):
    chat, context, delivery, _, store = parts
    post_alert(chat, delivery, api)
    api.fail_next("files.completeUploadExternal", error="not_in_channel")
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    assert delivery.deliver_due() == 0
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_a_chart_over_the_cap_is_not_attached_and_the_note_says_so(api, parts):
    chat, context, delivery, clock, _ = parts
    post_alert(chat, delivery, api)
    huge = PNG + b"\0" * MAX_IMAGE_BYTES
    context.post_context("C1", KEY, AlertAttachments(chart_png=huge, chart_title=TITLE))
    assert drain(delivery, clock) == 1
    assert not api.calls_to("files.getUploadURLExternal")
    assert f"_Chart: the chart is {len(huge)} bytes; at most {MAX_IMAGE_BYTES} are attached._" in (
        api.calls_to("chat.postMessage")[-1].args["text"])


def test_the_image_is_kept_in_the_outbox_as_base64_of_its_bytes(parts):
    _, context, _, clock, store = parts
    context.post_context("C1", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE))
    with store.transaction() as tx:
        [item] = tx.outbox_due("slack", clock.now(), limit=5, lease_s=1)
    assert item.order_key == KEY
    assert base64.b64decode(item.payload["png"]) == PNG


def test_nothing_to_show_queues_nothing(parts):
    _, context, _, _, store = parts
    context.post_context("C1", KEY, AlertAttachments())
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_the_slack_app_asks_for_the_scope_uploads_need():
    assert "files:write" in manifest("https://ops.example.com")["oauth_config"]["scopes"]["bot"]


def test_the_console_names_the_chart_and_prints_the_lines():
    out = io.StringIO()
    ConsoleChat(Console(file=out, width=200)).post_context(
        "ops", KEY, AlertAttachments(chart_png=PNG, chart_title=TITLE, log_lines=LINES, log_query_url=URL))
    printed = out.getvalue().splitlines()
    assert printed[0] == f"[ops]   [chart: {TITLE}]"
    assert f"[ops]   {LINES[0]}" in printed and f"[ops]   {LINES[1]}" in printed
    assert printed[-1] == f"[ops]   Open in Logs Insights: {URL}"
