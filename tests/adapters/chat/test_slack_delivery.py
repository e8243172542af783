"""Sending the outbox to a local Slack Web API (real HTTP, real WebClient, real store on SQLite
and PostgreSQL): in place by request, threads, 429 Retry-After, outages, undeliverable messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient

from opsgate.adapters.chat.slack.chat import SlackChat
from opsgate.adapters.chat.slack.delivery import OutboxDelivery
from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.adapters.store import open_store
from opsgate.domain.message import Button, Link, Message, Reply
from opsgate.testing import FakeClock

R1 = "r-0000abcd"


@pytest.fixture
def parts(api, database_url):
    store = open_store(database_url)
    clock = FakeClock()
    client = WebClient(token="xoxb-test", base_url=api.base_url)
    delivery = OutboxDelivery(store, client, clock, request_page=lambda rid: f"https://ops.example.com/requests/{rid}")
    yield SlackChat(store, clock), delivery, clock, store
    store.close()


def sent(api: LocalSlackApi, method: str) -> list[dict]:
    return [c.args for c in api.calls_to(method)]


def test_news_about_a_request_is_posted_once_then_updated_in_place(api, parts):
    chat, delivery, _, _ = parts
    chat.post(Message("Approval needed", "C1", request_id=R1, buttons=(Button("Approve", f"approve {R1}", "primary"),)))
    chat.post(Message("Carol approved. Running.", "C1", request_id=R1))
    assert delivery.deliver_due() == 1  # the update waits for its message
    assert delivery.deliver_due() == 1
    [posted] = api.calls_to("chat.postMessage")
    [updated] = sent(api, "chat.update")
    assert (updated["channel"], updated["ts"]) == ("C1", posted.answer["ts"])
    assert updated["text"] == "Carol approved. Running." and "actions" not in str(updated["blocks"])
    assert "https://ops.example.com/requests/r-0000abcd|Request page" in str(updated["blocks"])


def test_a_result_goes_in_the_thread_of_its_requests_message(api, parts):
    chat, delivery, _, _ = parts
    chat.post(Message("Approval needed", "C1", request_id=R1))
    chat.queue_result(Reply("✅ Succeeded", ephemeral=False, request_id=R1), "C1", None)
    delivery.deliver_due()
    delivery.deliver_due()
    first, result = api.calls_to("chat.postMessage")
    assert result.args["thread_ts"] == first.answer["ts"] and result.args["text"] == "✅ Succeeded"


def test_a_result_with_no_message_yet_becomes_the_requests_message(api, parts):
    chat, delivery, _, _ = parts
    chat.queue_result(Reply("✅ Succeeded", ephemeral=False, request_id=R1), "C1", "1700000000.000009")
    chat.post(Message("Expired", "C1", request_id=R1))
    delivery.deliver_due()
    delivery.deliver_due()
    [result] = api.calls_to("chat.postMessage")
    assert result.args["thread_ts"] == "1700000000.000009"
    assert sent(api, "chat.update")[0]["ts"] == result.answer["ts"]


def test_links_are_shown_under_the_text(api, parts):
    chat, delivery, _, _ = parts
    chat.post(Message("Started", "C1", request_id=R1, links=(Link("AWS console", "https://eu-west-1.console.aws.amazon.com/x"),)))
    delivery.deliver_due()
    [posted] = sent(api, "chat.postMessage")
    assert "<https://eu-west-1.console.aws.amazon.com/x|AWS console>  ·  <https://ops.example.com/requests/r-0000abcd|Request page>" in str(posted["blocks"])


def test_an_ephemeral_message_goes_to_one_person(api, parts):
    chat, delivery, _, _ = parts
    chat.queue_ephemeral(Reply("Denied r-1."), "U0CAROL", "C1", "1700000000.000001")
    delivery.deliver_due()
    [call] = sent(api, "chat.postEphemeral")
    assert (call["user"], call["channel"], call["thread_ts"], call["text"]) == ("U0CAROL", "C1", "1700000000.000001", "Denied r-1.")


def test_a_429_is_honoured_with_its_retry_after_and_holds_the_channel(api, parts):
    chat, delivery, clock, _ = parts
    api.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
    chat.post(Message("first", "C1"))
    chat.post(Message("second", "C1", request_id=R1))  # same channel, another order key
    chat.post(Message("elsewhere", "C2"))
    assert delivery.deliver_due() == 1  # only C2: C1 waits for its rate limit
    assert [c.args["text"] for c in api.calls_to("chat.postMessage")] == ["first", "elsewhere"]
    clock.advance(29)
    assert delivery.deliver_due() == 0
    clock.advance(1)
    assert delivery.deliver_due() == 2
    assert [c.args["text"] for c in api.calls_to("chat.postMessage")][-2:] == ["first", "second"]


def test_an_outage_is_retried_with_backoff_and_nothing_is_lost(api, parts):
    chat, delivery, clock, store = parts
    api.fail_next("chat.postMessage", status=500, error="internal_error")
    api.fail_next("chat.postMessage", status=503, error="service_unavailable")
    chat.post(Message("hello", "C1"))
    assert delivery.deliver_due() == 0
    clock.advance(1)
    assert delivery.deliver_due() == 0  # second failure: waits 2 s now
    clock.advance(1)
    assert delivery.deliver_due() == 0
    clock.advance(1)
    assert delivery.deliver_due() == 1
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_an_undeliverable_message_is_set_aside_and_the_next_goes_on(api, parts):
    chat, delivery, _, store = parts
    api.fail_next("chat.postMessage", error="channel_not_found")
    chat.post(Message("to nowhere", "C404", request_id=R1))
    chat.post(Message("update", "C404", request_id=R1))
    assert delivery.deliver_due() == 0
    assert delivery.deliver_due() == 1  # the update is posted instead (no message to update)
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_a_deleted_request_message_is_posted_anew(api, parts):
    chat, delivery, _, _ = parts
    chat.post(Message("Approval needed", "C1", request_id=R1))
    delivery.deliver_due()
    api.fail_next("chat.update", error="message_not_found")
    chat.post(Message("Approved", "C1", request_id=R1))
    chat.post(Message("Succeeded", "C1", request_id=R1))
    delivery.deliver_due()
    delivery.deliver_due()
    posted = api.calls_to("chat.postMessage")
    assert [c.args["text"] for c in posted] == ["Approval needed", "Approved"]
    assert sent(api, "chat.update")[-1]["ts"] == posted[-1].answer["ts"]  # later news updates the new one


def test_a_parameter_value_cannot_ping_the_channel(api, parts):
    chat, delivery, _, _ = parts
    chat.post(Message("deploy version=<!channel> & <@U0BOSS>", "C1"))
    delivery.deliver_due()
    [posted] = sent(api, "chat.postMessage")
    assert posted["text"] == "deploy version=&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;"


def test_an_item_in_flight_elsewhere_is_not_sent_until_its_lease_runs_out(api, parts):
    chat, delivery, clock, store = parts
    chat.post(Message("hello", "C1"))
    with store.transaction() as tx:  # another replica claimed it, then died
        tx.outbox_due("slack", clock.now(), limit=10, lease_s=delivery.lease_s)
    assert delivery.deliver_due() == 0
    clock.advance(timedelta(seconds=delivery.lease_s).total_seconds())
    assert delivery.deliver_due() == 1
