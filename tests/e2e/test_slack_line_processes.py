"""Lines in a worker process (OPSGATE_LINE_PROCESSES=1), as `opsgate serve` runs them: the serving
process acks and answers, a spawned worker runs the dispatcher and queues into the shared outbox,
which the serving process delivers. Observed at the local Slack Web API, like the other e2e tests."""

from __future__ import annotations

import os

import pytest

from tests.e2e.slack_world import OPS, SlackWorld, buttons_of


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url, extra_env={"OPSGATE_LINE_PROCESSES": "1"})
    yield world
    world.close()


def test_a_signed_slash_command_runs_in_the_worker_process_and_is_answered(world):
    lines = world.served.lines
    assert lines is not None and lines.processes == 1
    [worker] = lines.start()  # started with the server: returns the running worker at once
    assert worker != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, worker) > os.getpriority(os.PRIO_PROCESS, 0)  # niced

    answer = world.command("U0ALICE", "deploy status web prod")
    assert answer.status_code == 200 and answer.content == b""
    [post] = world.posts(1)  # queued by the worker, sent by the serving process's delivery
    assert post["channel"] == OPS and "Succeeded" in post["text"] and "web in prod: v42" in post["text"]
    request_id = post["text"].split("`")[1]
    assert world.request(request_id).state.value == "succeeded"
    assert [r["event"] for r in world.audit() if r.get("request_id") == request_id]

    world.command("U0ALICE", "help")  # an ephemeral answer: the serving process uses response_url
    [help_answer] = world.responses(1)
    assert help_answer["response_type"] == "ephemeral" and "deploy status" in help_answer["text"]
    world.settle()
    assert lines.start() == [worker]  # the same worker served both lines


def test_a_retried_command_runs_once_across_processes(world):
    body = world.command_body("U0ALICE", "deploy status web prod", trigger_id="7.7.retry")
    assert world.post_signed(body).status_code == 200
    assert world.post_signed(body, headers={"X-Slack-Retry-Num": "1"}).status_code == 200
    world.settle()
    assert len(world.posts(1)) == 1 and world.api.calls_to("response_url") == []


def test_user_groups_and_approvals_work_from_the_worker(world):
    """The worker has its own Slack Directory (its own usergroups.list); the approval message it
    queued is updated in place by the serving process's delivery."""
    world.api.usergroups = [{"id": "S0ONCALL", "handle": "oncall", "users": ["U0DAVE"]}]
    world.command("U0ALICE", "restart web prod")
    world.settle()
    [message] = world.api.calls_to("chat.postMessage")
    request_id = message.args["text"].split("`")[1]
    world.click("U0DAVE", buttons_of(message.args)["Approve"], message.answer["ts"])
    world.settle()
    assert world.request(request_id).state.value == "succeeded"
    assert [c.args["ts"] for c in world.api.calls_to("chat.update")] == [message.answer["ts"]] * 2
    assert world.api.calls_to("usergroups.list")
