"""Whole flows against the AWS sandbox (moto over HTTP, the real boto3), as `opsgate demo` runs them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from opsgate.config.settings import resolve_settings
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.request import State
from opsgate.ports import RunContext
from opsgate.testing import RecordingChat
from opsgate.wiring import build

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "opsgate.yaml"
PR = "https://github.com/acme/web/pull/42"


class World:
    def __init__(self, tmp_path: Path) -> None:
        settings = resolve_settings({"OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_SANDBOX": "1"}, config=EXAMPLE, cwd=tmp_path)
        self.chat = RecordingChat()
        self.app = build(settings, self.chat)

    def say(self, person: str, text: str):
        return self.app.dispatcher.handle(Inbound(Actor("console", person, person.title()), text, "console"))

    def tick(self, times: int = 1) -> None:
        for _ in range(times):
            self.app.worker.run_all_once()

    def request(self, request_id: str):
        with self.app.store.transaction() as tx:
            return tx.get_request(request_id)

    def pending(self, command: str, ticks: int = 100):
        """The request opsgate opened for `command`, running the background jobs until it appears
        (the emulator runs workflows on its own threads: bounded polling, not a fixed sleep)."""
        for _ in range(ticks):
            with self.app.store.transaction() as tx:
                found = [r for r in tx.list_requests(states=(State.AWAITING_APPROVAL,), limit=50) if r.command == command]
            if found:
                return found[0]
            self.tick()
            time.sleep(0.05)
        raise AssertionError(f"no {command} request was opened")

    def until(self, request_id: str, *states: State, ticks: int = 100):
        for _ in range(ticks):
            record = self.request(request_id)
            if record.state in states:
                return record
            self.tick()
            time.sleep(0.05)
        raise AssertionError(f"{request_id} stayed {self.request(request_id).state}")

    def audit(self, request_id: str) -> list[dict]:
        return [r.fields() for r in self.app.store.iter_audit() if r.fields().get("request_id") == request_id]


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    try:
        yield w
    finally:
        w.app.close()


def waiting_id(text: str) -> str:
    return re.search(r"`(r-[0-9a-z]{8})`", text).group(1)


def test_prod_rollback_approved_then_workflow_step_approved_from_chat(world):
    rid = waiting_id(world.say("bob", f"rollback web prod --link {PR}").text)
    assert world.request(rid).state is State.AWAITING_APPROVAL
    started = world.say("carol", f"approve {rid}")
    assert "Started" in started.text, started.text
    arn = world.request(rid).result["correlation"]["execution_arn"]
    assert arn.endswith(f":execution:rollback:{rid}") and ":333333333333:" in arn

    step = world.pending("workflow step")
    assert step.params["parent"] == rid
    assert step.requester_id == "bob"  # inherited: bob may not approve his own workflow's step
    assert any(m.request_id == step.id and m.buttons for m in world.chat.messages)
    assert "nobody approves their own request" in world.say("bob", f"approve {step.id}").text
    assert world.say("dave", f"approve {step.id}").ok
    assert world.request(step.id).params["token"] == "[redacted]"  # the token is gone once answered

    done = world.until(rid, State.SUCCEEDED, State.FAILED)
    assert done.state is State.SUCCEEDED, done.error
    records = world.audit(rid)
    assert [r["event"] for r in records] == ["request.decided", "approval.granted", "execution.started",
                                              "execution.launched", "execution.succeeded"]
    assert records[-1]["correlation"]["execution_arn"] == arn
    assert records[-1]["approvers"] == ["carol"]
    assert any("Entered state Rollback" in text for text in world.chat.texts())
    assert world.app.store.verify_audit().ok


def test_denying_the_workflow_step_sends_task_failure(world):
    rid = waiting_id(world.say("bob", "rollback web dev").text)  # dev: runs at once
    step = world.pending("workflow step")
    assert world.say("carol", f'deny {step.id} reason="not during the sale"').ok
    answered = world.audit(step.id)[-1]
    assert (answered["event"], answered["target"]) == ("refusal.answered", "stepfunctions-task")
    failed = world.until(rid, State.SUCCEEDED, State.FAILED)
    assert failed.state is State.FAILED and "opsgate.Denied" in failed.error


def test_dry_run_lists_the_calls_and_makes_none(world):
    reply = world.say("carol", "rollback web prod --dry-run")
    assert reply.ok and "states:StartExecution" in reply.text and "rollback" in reply.text
    env = world.app.catalog.environments["prod"]
    sfn = world.app.sessions.client("stepfunctions", env, RunContext("check", "carol", env))
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_calls_run_in_a_session_named_after_the_request(world):
    reply = world.say("carol", "alarms prod")
    assert reply.ok and "web-5xx-high" in reply.text
    env = world.app.catalog.environments["prod"]
    sts = world.app.sessions.client("sts", env, RunContext(reply.request_id, "carol", env))
    identity = sts.get_caller_identity()
    assert identity["Account"] == "333333333333"
    assert identity["Arn"].endswith(f"assumed-role/opsgate-prod/opsgate-{reply.request_id}")


def test_pipeline_approval_notification_becomes_a_request_and_approval_releases_it(world):
    request = world.pending("pipeline approval")
    assert request.params["pipeline"] == "web-release"
    assert world.say("dave", f"approve {request.id}").ok
    assert world.request(request.id).state is State.SUCCEEDED
    env = world.app.catalog.environments["prod"]
    pipeline = world.app.sessions.client("codepipeline", env, RunContext("check", "dave", env))
    stages = {s["stageName"]: s for s in pipeline.get_pipeline_state(name="web-release")["stageStates"]}
    assert stages["Approve"]["latestExecution"]["status"] == "Succeeded"


def test_denying_a_pipeline_approval_rejects_it_in_codepipeline(world):
    request = world.pending("pipeline approval")
    assert world.say("carol", f'deny {request.id} reason="tests are red"').ok
    env = world.app.catalog.environments["prod"]
    pipeline = world.app.sessions.client("codepipeline", env, RunContext("check", "carol", env))
    stages = {s["stageName"]: s for s in pipeline.get_pipeline_state(name="web-release")["stageStates"]}
    assert stages["Approve"]["latestExecution"]["status"] == "Failed"


def test_every_example_command_answers(world):
    lines = {"carol": ["deploy status web", "alarms prod", "cost prod", "env staging", "restart web dev",
                       "runbook run acme-restart-service web dev", "service rollback web dev", "deploy rollback dev",
                       "runbook roll back web", "secret rotate name=api-key value=s3cr3t env=dev"]}
    for person, texts in lines.items():
        for text in texts:
            reply = world.say(person, text)
            assert reply.ok, f"{text}: {reply.text}"
            if "Started" in reply.text:
                assert world.until(reply.request_id, State.SUCCEEDED, State.FAILED).state is State.SUCCEEDED, text
    assert all("s3cr3t" not in r.body.decode() for r in world.app.store.iter_audit())
