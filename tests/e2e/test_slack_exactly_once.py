"""Exactly once, over real HTTP, on SQLite and PostgreSQL: the same signed request five times at
once, the same click delivered twice, a double click, two replicas receiving the same action."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.e2e.slack_world import SlackWorld, buttons_of


@pytest.fixture
def world(tmp_path, database_url):
    world = SlackWorld(tmp_path, database_url)
    yield world
    world.close()


def all_at_once(count: int, send) -> list[httpx.Response]:
    barrier = threading.Barrier(count, timeout=30)
    answers: list[httpx.Response | None] = [None] * count

    def one(i: int) -> None:
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers  # type: ignore[return-value]


def executions(world: SlackWorld) -> list[dict]:
    return [r for r in world.audit() if r["event"] == "execution.started"]


def test_the_same_signed_command_sent_five_times_at_once_runs_once_and_answers_once(world):
    body = world.command_body("U0ALICE", "deploy status web prod")
    answers = all_at_once(5, lambda _: world.post_signed(body))
    assert [a.status_code for a in answers] == [200] * 5
    world.settle()
    assert len(executions(world)) == 1
    assert len(world.api.calls_to("chat.postMessage")) == 1  # one result in the channel
    assert world.api.calls_to("response_url") == []  # and no "already received" noise


def test_the_same_click_sent_five_times_at_once_approves_and_runs_once(world):
    world.command("U0ALICE", "restart web prod")
    world.settle()
    [message] = world.api.calls_to("chat.postMessage")
    body = world.click_body("U0CAROL", buttons_of(message.args)["Approve"], message.answer["ts"],
                            action_ts="1700000500.123456")
    answers = all_at_once(5, lambda _: world.post_signed(body))
    assert [a.status_code for a in answers] == [200] * 5
    world.settle()
    assert len([r for r in world.audit() if r["event"] == "approval.granted"]) == 1
    assert len(executions(world)) == 1


def test_a_double_click_approves_once_and_the_second_click_is_told_why_not(world):
    world.command("U0ALICE", "restart web prod")
    world.settle()
    [message] = world.api.calls_to("chat.postMessage")
    approve = buttons_of(message.args)["Approve"]
    answers = all_at_once(2, lambda _: world.click("U0CAROL", approve, message.answer["ts"]))  # own action_ts each
    assert [a.status_code for a in answers] == [200, 200]
    world.settle()
    assert len([r for r in world.audit() if r["event"] == "approval.granted"]) == 1
    assert len(executions(world)) == 1
    refused = [c.args["text"] for c in world.api.calls_to("response_url") if "Cannot approve" in c.args["text"]]
    assert len(refused) == 1


def test_two_replicas_receiving_the_same_click_run_it_once(world, tmp_path):
    (tmp_path / "replica").mkdir()
    second = SlackWorld(tmp_path / "replica", world.settings.database_url)  # same database, own process state
    try:
        world.command("U0ALICE", "restart web prod")
        world.settle()
        [message] = world.api.calls_to("chat.postMessage")
        body = world.click_body("U0CAROL", buttons_of(message.args)["Approve"], message.answer["ts"],
                                action_ts="1700000600.000001")
        replicas = [world, second]
        answers = all_at_once(4, lambda i: replicas[i % 2].post_signed(body))
        assert [a.status_code for a in answers] == [200] * 4
        world.settle()
        second.settle()
        assert len(executions(world)) == 1
    finally:
        second.close()
