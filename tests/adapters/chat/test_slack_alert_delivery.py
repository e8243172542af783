"""Alert-group messages through the outbox to a local Slack Web API (real HTTP, real WebClient, real
store on SQLite and PostgreSQL): in place by subject, details in its thread, mentions, page links,
per-channel pacing and coalesced updates."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient

from opsgate.adapters.chat.slack.chat import SlackChat
from opsgate.adapters.chat.slack.delivery import OutboxDelivery
from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.adapters.store import open_store
from opsgate.adapters.store.tables import outbox
from opsgate.domain.message import Mention, Message
from opsgate.domain.pages import PageLinks
from opsgate.testing import FakeClock

GROUP = "alert-group/g-7k2m9qd4"


@pytest.fixture
def parts(api, database_url):
    store = open_store(database_url)
    clock = FakeClock()
    client = WebClient(token="xoxb-test", base_url=api.base_url)
    delivery = OutboxDelivery(store, client, clock, subject_page=PageLinks("https://ops.example.com").url)
    yield SlackChat(store, clock), delivery, clock, store
    store.close()


def texts(api: LocalSlackApi, method: str) -> list[str]:
    return [c.args["text"] for c in api.calls_to(method)]


def drain(delivery: OutboxDelivery, clock: FakeClock, seconds: int = 60) -> None:
    for _ in range(seconds):
        delivery.deliver_due()
        clock.advance(1)


def test_a_groups_message_is_posted_once_updated_in_place_and_its_details_go_in_its_thread(api, parts):
    chat, delivery, clock, _ = parts
    chat.post(Message("🔥 2 firing", "C1", subject=GROUP))
    chat.post(Message("New: a, b", "C1", reply_to=GROUP))
    drain(delivery, clock, 3)
    chat.post(Message("✅ resolved", "C1", subject=GROUP))
    drain(delivery, clock, 3)
    posted, reply = api.calls_to("chat.postMessage")
    assert "thread_ts" not in posted.args and reply.args["thread_ts"] == posted.answer["ts"]
    [update] = api.calls_to("chat.update")
    assert update.args["ts"] == posted.answer["ts"] and update.args["text"] == "✅ resolved"
    assert "<https://ops.example.com/alerts/g-7k2m9qd4|Alert group page>" in str(posted.args["blocks"])


def test_mentions_are_slack_mentions_and_a_forged_id_is_never_one(api, parts):
    chat, delivery, clock, _ = parts
    chat.post(Message("🔥 critical", "C1", subject=GROUP,
                      mentions=(Mention("U03CAROL"), Mention("S0ONCALL", group=True), Mention("!channel"))))
    drain(delivery, clock, 2)
    [posted] = api.calls_to("chat.postMessage")
    assert posted.args["text"].startswith("<@U03CAROL> <!subteam^S0ONCALL> ")
    assert posted.args["blocks"][0]["text"]["text"] == "<@U03CAROL> <!subteam^S0ONCALL>"
    assert "<!channel>" not in str(posted.args)


def test_a_channel_takes_a_burst_then_one_message_a_second_and_other_channels_are_not_held_up(api, parts):
    chat, delivery, clock, _ = parts
    for n in range(10):
        chat.post(Message(f"storm {n}", "C1", subject=f"alert-group/g-{n:08d}"))
    chat.post(Message("elsewhere", "C2"))
    delivery.deliver_due()
    assert texts(api, "chat.postMessage") == ["storm 0", "storm 1", "storm 2", "storm 3", "elsewhere"]
    with parts[3].transaction() as tx:  # held back, not failed: no attempt counted
        assert {row.attempts for row in tx._conn.execute(sa.select(outbox.c.attempts))} == {0}
    for second in range(1, 7):
        clock.advance(1)
        delivery.deliver_due()
        assert len(api.calls_to("chat.postMessage")) == 5 + second  # one more each second
    with parts[3].transaction() as tx:
        assert tx.outbox_pending("slack") == 0


def test_two_senders_share_each_channels_pace(api, parts, database_url):
    """Two replicas (each its own store connection and delivery) take turns from one count: the
    channel still gets its burst, then one message a second, not one a second from each."""
    chat, delivery, clock, _ = parts
    other_store = open_store(database_url)
    try:
        other = OutboxDelivery(other_store, WebClient(token="xoxb-test", base_url=api.base_url), clock, batch=3)
        delivery.batch = 3  # each claims part of the queue
        for n in range(12):
            chat.post(Message(f"storm {n}", "C1", subject=f"alert-group/g-{n:08d}"))
        for second in range(9):
            delivery.deliver_due()
            other.deliver_due()
            assert len(api.calls_to("chat.postMessage")) == min(12, 4 + second)  # a burst of 4, then 1/s
            clock.advance(1)
        assert sorted(texts(api, "chat.postMessage"), key=lambda t: int(t.split()[1])) == [f"storm {n}" for n in range(12)]
    finally:
        other_store.close()


def test_updates_of_a_posted_message_queued_back_to_back_are_coalesced(api, parts):
    chat, delivery, clock, _ = parts
    chat.post(Message("v1", "C1", subject=GROUP))
    drain(delivery, clock, 2)
    for version in ("v2", "v3", "v4"):
        chat.post(Message(version, "C1", subject=GROUP))
    drain(delivery, clock, 5)
    assert texts(api, "chat.update") == ["v4"]  # the last is what is true; the others were never sent


def test_an_update_is_not_skipped_over_a_thread_reply_between_them(api, parts):
    chat, delivery, clock, _ = parts
    chat.post(Message("v1", "C1", subject=GROUP))
    drain(delivery, clock, 2)
    chat.post(Message("v2", "C1", subject=GROUP))
    chat.post(Message("details", "C1", reply_to=GROUP))
    chat.post(Message("v3", "C1", subject=GROUP))
    drain(delivery, clock, 5)
    assert texts(api, "chat.update") == ["v2", "v3"]


def test_a_reply_whose_message_never_went_out_is_posted_in_the_channel(api, parts):
    chat, delivery, clock, _ = parts
    api.fail_next("chat.postMessage", error="invalid_blocks")
    chat.post(Message("broken", "C1", subject=GROUP))
    chat.post(Message("details", "C1", reply_to=GROUP))
    drain(delivery, clock, 3)
    [reply] = api.calls_to("chat.postMessage")[1:]
    assert reply.args["text"] == "details" and "thread_ts" not in reply.args


def test_many_console_links_stay_within_block_kits_limits(api, parts):
    from opsgate.domain.message import Link

    chat, delivery, clock, _ = parts
    links = tuple(Link(f"alarm-{n}", f"https://eu-west-1.console.aws.amazon.com/cloudwatch/home#alarmsV2:alarm/alarm-{n}"
                       + "x" * 60) for n in range(60))
    chat.post(Message("details", "C1", reply_to=GROUP, links=links))
    drain(delivery, clock, 2)
    [posted] = api.calls_to("chat.postMessage")
    contexts = [b for b in posted.args["blocks"] if b["type"] == "context"]
    assert all(len(e["text"]) <= 3000 for b in contexts for e in b["elements"])
    assert all(len(b["elements"]) <= 10 for b in contexts)
