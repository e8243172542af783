"""The outbox over a restart: messages queued by one opsgate process are sent by the next one,
each exactly once and in order, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.e2e.slack_world import SlackWorld, buttons_of


def test_messages_queued_before_a_restart_are_sent_once_after_it(tmp_path, database_url):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    (tmp_path / "third").mkdir()
    first = SlackWorld(tmp_path / "first", database_url, start_delivery=False)  # stops before sending anything
    try:
        first.command("U0ALICE", "restart web prod")
        first.command("U0ALICE", "deploy status web dev")
        first.settle()
    finally:
        first.close()
    assert first.api.calls_to("chat.postMessage") == []

    second = SlackWorld(tmp_path / "second", database_url)
    try:
        second.settle()
        posted = [c.args for c in second.api.calls_to("chat.postMessage")]
        assert len(posted) == 2  # (the two lines ran at once: either may have been queued first)
        [approval] = [p for p in posted if "Approval needed" in p["text"]]
        [result] = [p for p in posted if "web in dev: v42" in p["text"]]
        assert buttons_of(approval) and not buttons_of(result)
    finally:
        second.close()

    third = SlackWorld(tmp_path / "third", database_url)
    try:
        third.settle()
        assert third.api.calls_to("chat.postMessage") == []  # nothing sent twice
    finally:
        third.close()
