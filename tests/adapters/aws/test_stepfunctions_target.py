"""The `stepfunctions` target against moto executing real state machine definitions."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.stepfunctions_target import (
    DENIED_ERROR,
    StepFunctionsTarget,
    answer_task,
    execution_console_url,
    progress_lines,
)
from opsgate.adapters.aws.target import Permission
from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError
from opsgate.ports import RunResult

TARGET = StepFunctionsTarget()
SFN_ROLE = "arn:aws:iam::123456789012:role/sfn"
MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:release"


def release_definition(queue_url: str = "") -> dict:
    """Choice on $.mode: `ok` passes, `approve` waits for a task token via SQS, `hold` waits ten
    minutes, anything else runs a Rollback task that fails (its queue does not exist) and ends in a
    Fail state."""
    approve = {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token", "service.$": "$.service"}},
        "TimeoutSeconds": 300, "Next": "Done",
    }
    return {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.mode", "StringEquals": "ok", "Next": "Deploy"},
            {"Variable": "$.mode", "StringEquals": "approve", "Next": "Approve"},
            {"Variable": "$.mode", "StringEquals": "hold", "Next": "Hold"}], "Default": "Rollback"},
        "Hold": {"Type": "Wait", "Seconds": 600, "Next": "Done"},
        "Deploy": {"Type": "Pass", "Result": {"deployed": "v42"}, "Next": "Done"},
        "Approve": approve,
        "Rollback": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                     "Parameters": {"QueueUrl": queue_url.rsplit("/", 1)[0] + "/missing-queue", "MessageBody": "x"},
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}], "Next": "Done"},
        "Broken": {"Type": "Fail", "Error": "ReleaseFailed", "Cause": "rollback could not be queued"},
        "Done": {"Type": "Succeed"},
    }}


@pytest.fixture
def dev(make_environment):
    return make_environment()


@pytest.fixture
def clients(dev, clients_for):
    return clients_for(dev)


@pytest.fixture
def queue_url(clients):
    return clients.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]


@pytest.fixture
def machine(clients, queue_url):
    sfn = clients.client("stepfunctions")
    return sfn.create_state_machine(name="release", definition=json.dumps(release_definition(queue_url)),
                                    roleArn=SFN_ROLE)["stateMachineArn"]


def settings(mode: str, **extra) -> dict:
    return {"state_machine": "release", "input": {"mode": mode, "service": "web"}, **extra}


def follow(target, clients, settings, ctx, started: RunResult, *, until=lambda r: not r.pending,
           deadline_s: float = 15) -> tuple[RunResult, list[str]]:
    """Poll like opsgate does (checkpoint in, checkpoint out) until `until`; collect progress."""
    result, progress, end = started, [], time.monotonic() + deadline_s
    while True:
        result = target.poll(clients, settings, ctx, result.checkpoint)
        progress += result.progress
        if until(result):
            return result, progress
        assert result.pending, result.summary
        assert time.monotonic() < end, f"execution did not get there: {result.summary}"
        time.sleep(0.05)


def receive_token(clients, queue_url) -> str:
    for _ in range(30):
        messages = clients.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return json.loads(messages[0]["Body"])["token"]
    raise AssertionError("the workflow never sent its task token")


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_a_complete_action():
    assert TARGET.validate({"state_machine": "release-{service}", "input": {"v": "{version}"}, "timeout": "30m",
                            "show_result": True}) == []


def test_validate_reports_each_problem():
    assert TARGET.validate({"input": "text", "timeout": "soon", "retries": 2}) == [
        "retries: unknown key; the stepfunctions action accepts kind, state_machine, input, timeout, show_result",
        "state_machine: is required (a state machine name or ARN)",
        "input: must be a mapping of names to values",
        "timeout: must be a duration: a number of seconds or parts like 90s, 15m, 2h, 1h30m, 7d"]


def test_validate_accepts_a_state_machine_arn_and_refuses_other_arns():
    assert TARGET.validate({"state_machine": MACHINE_ARN}) == []
    assert TARGET.validate({"state_machine": "arn:aws:lambda:eu-west-1:123456789012:function:f"}) == [
        "state_machine: must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)"]


def test_permissions_cover_the_machine_its_executions_and_answering_its_tasks(dev):
    executions = "arn:aws:states:eu-west-1:123456789012:execution:release-*:*"
    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:release-*"
    assert TARGET.permissions({"state_machine": "release-{service}"}, dev) == [
        Permission("states:StartExecution", machine),
        Permission("states:DescribeExecution", executions),
        Permission("states:GetExecutionHistory", executions),
        Permission("states:SendTaskSuccess", machine),
        Permission("states:SendTaskFailure", machine),
    ]


def test_plan_names_the_execution_after_the_request_and_hides_the_input(dev, make_ctx):
    [call] = TARGET.plan({"state_machine": MACHINE_ARN, "input": {"token": "s3cr3t"}}, dev,
                         make_ctx(dev, request_id="r-abc123"))
    assert call.api == "states:StartExecution" and call.target == MACHINE_ARN
    assert call.parameters == {"stateMachineArn": MACHINE_ARN, "name": "r-abc123",
                               "input": f"<{len(json.dumps({'token': 's3cr3t'}))} characters of JSON>"}


def test_the_console_link_opens_the_execution():
    arn = "arn:aws:states:eu-west-1:123456789012:execution:release:r-1"
    assert execution_console_url(arn) == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn)


# -- run and poll on moto -------------------------------------------------------------------------

def test_run_starts_an_execution_named_after_the_request_and_returns_pending(machine, clients, dev, make_ctx):
    result = TARGET.run(clients, settings("ok"), make_ctx(dev, request_id="r-start001"))
    arn = "arn:aws:states:eu-west-1:123456789012:execution:release:r-start001"
    assert result.ok and result.pending
    assert result.checkpoint["execution_arn"] == arn and result.checkpoint["last_event_id"] == 0
    datetime.fromisoformat(result.checkpoint["started_at"])
    assert result.correlation == {"execution_arn": arn, "console_url": execution_console_url(arn)}


def test_poll_follows_a_successful_execution_with_progress_lines(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    wanted = settings("ok", show_result=True)
    started = TARGET.run(clients, wanted, ctx)
    done, progress = follow(TARGET, clients, wanted, ctx, started)
    assert done.ok and not done.pending
    assert done.summary.startswith("Execution r-test0001 succeeded in ")
    assert done.summary.endswith(': `{"deployed":"v42"}`')
    assert progress == ["Entered state Check", "Exited state Check", "Entered state Deploy", "Exited state Deploy",
                        "Entered state Done", "Exited state Done"]
    assert done.correlation["execution_arn"] == started.checkpoint["execution_arn"]


def test_the_output_is_not_shown_without_show_result(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    done, _ = follow(TARGET, clients, settings("ok"), ctx, TARGET.run(clients, settings("ok"), ctx))
    assert done.ok and "v42" not in done.summary and "result" not in done.output


def test_a_failed_execution_reports_the_failed_task_error_and_cause(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    done, progress = follow(TARGET, clients, settings("break"), ctx, TARGET.run(clients, settings("break"), ctx))
    assert not done.ok and not done.pending
    assert done.summary == "Execution r-test0001 failed: ReleaseFailed: rollback could not be queued"
    assert done.output == {"status": "FAILED", "error": "ReleaseFailed", "cause": "rollback could not be queued"}
    failures = [line for line in progress if line.startswith("Task failed")]
    assert len(failures) == 1 and failures[0].startswith("Task failed in Rollback: ")
    assert progress[-2:] == ["Exited state Rollback", "Entered state Broken"]


def test_each_progress_line_is_reported_once(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    done, _ = follow(TARGET, clients, settings("ok"), ctx, TARGET.run(clients, settings("ok"), ctx))
    again = TARGET.poll(clients, settings("ok"), ctx, done.checkpoint)
    assert again.ok and again.progress == ()


def test_a_retried_run_follows_the_finished_execution_instead_of_starting_another(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    first, _ = follow(TARGET, clients, settings("ok"), ctx, TARGET.run(clients, settings("ok"), ctx))
    retried = TARGET.run(clients, settings("ok"), ctx)  # AWS: ExecutionAlreadyExists (it has closed)
    assert retried.pending and retried.checkpoint["execution_arn"] == first.correlation["execution_arn"]
    again, _ = follow(TARGET, clients, settings("ok"), ctx, retried)
    assert again.ok
    executions = clients.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert len(executions) == 1


def test_a_retried_run_follows_the_running_execution(machine, clients, dev, make_ctx, queue_url):
    ctx = make_ctx(dev)
    first = TARGET.run(clients, settings("approve"), ctx)
    retried = TARGET.run(clients, settings("approve"), ctx)  # same name and input while running: same execution
    assert retried.checkpoint["execution_arn"] == first.checkpoint["execution_arn"]
    answer_task(clients, receive_token(clients, queue_url), approved=True, output={"approved_by": "bob"})
    done, _ = follow(TARGET, clients, settings("approve"), ctx, retried)
    assert done.ok
    assert len(clients.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]) == 1


def test_a_task_token_step_stays_pending_until_it_is_approved(machine, clients, dev, make_ctx, queue_url):
    ctx = make_ctx(dev)
    wanted = settings("approve", show_result=True)
    started = TARGET.run(clients, wanted, ctx)
    waiting, progress = follow(TARGET, clients, wanted, ctx, started,
                               until=lambda r: "Entered state Approve" in r.progress)
    token = receive_token(clients, queue_url)
    still = TARGET.poll(clients, wanted, ctx, waiting.checkpoint)
    assert still.ok and still.pending and still.summary == "Execution r-test0001 is running"
    answer_task(clients, token, approved=True, output={"approved_by": "bob"})
    done, more = follow(TARGET, clients, wanted, ctx, still)
    assert done.ok and done.summary.endswith(': `{"approved_by":"bob"}`')
    assert progress + more == ["Entered state Check", "Exited state Check", "Entered state Approve",
                               "Exited state Approve", "Entered state Done", "Exited state Done"]


def test_a_denied_task_token_step_fails_the_execution(machine, clients, dev, make_ctx, queue_url):
    ctx = make_ctx(dev)
    started = TARGET.run(clients, settings("approve"), ctx)
    answer_task(clients, receive_token(clients, queue_url), approved=False, reason="not during the sale")
    done, progress = follow(TARGET, clients, settings("approve"), ctx, started)
    assert not done.ok
    # moto's send_task_failure drops the cause (FACTS.md); AWS would append ": not during the sale".
    assert done.summary == f"Execution r-test0001 failed: {DENIED_ERROR}"
    assert f"Task failed in Approve: {DENIED_ERROR}" in progress


def test_an_aborted_execution_is_not_ok(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    started = TARGET.run(clients, settings("hold"), ctx)
    follow(TARGET, clients, settings("hold"), ctx, started, until=lambda r: "Entered state Hold" in r.progress)
    clients.client("stepfunctions").stop_execution(executionArn=started.checkpoint["execution_arn"])
    done, _ = follow(TARGET, clients, settings("hold"), ctx, started)
    assert not done.ok and done.output["status"] == "ABORTED"
    assert done.summary.startswith("Execution r-test0001 was aborted")


def test_an_execution_running_past_the_timeout_is_reported_and_left_running(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    started = TARGET.run(clients, settings("hold", timeout="30m"), ctx)
    began = datetime.fromisoformat(started.checkpoint["started_at"])
    later = StepFunctionsTarget(now=lambda: began + timedelta(minutes=31))
    result = later.poll(clients, settings("hold", timeout="30m"), ctx, started.checkpoint)
    arn = started.checkpoint["execution_arn"]
    assert not result.ok and not result.pending
    assert result.summary == ("Execution r-test0001 is still running after 30m; opsgate stopped following it "
                              f"(it was not stopped). See {execution_console_url(arn)}")
    status = clients.client("stepfunctions").describe_execution(executionArn=arn)["status"]
    assert status == "RUNNING"


def test_within_the_timeout_it_stays_pending(machine, clients, dev, make_ctx):
    ctx = make_ctx(dev)
    started = TARGET.run(clients, settings("hold"), ctx)  # default timeout 1h
    began = datetime.fromisoformat(started.checkpoint["started_at"])
    sooner = StepFunctionsTarget(now=lambda: began + timedelta(minutes=59))
    assert sooner.poll(clients, settings("hold"), ctx, started.checkpoint).pending


def test_run_through_the_automation_fills_the_input(machine, sessions, dev, make_ctx):
    automation = AwsAutomation([TARGET], sessions)
    action = ActionSpec("stepfunctions", {"state_machine": "release",
                                          "input": {"mode": "{mode}", "service": "{service}"}})
    ctx = make_ctx(dev, request_id="r-filled01")
    started = automation.run(action, {"mode": "ok", "service": "api"}, ctx)
    sfn = sessions.clients(dev, ctx).client("stepfunctions")
    execution = sfn.describe_execution(executionArn=started.checkpoint["execution_arn"])
    assert json.loads(execution["input"]) == {"mode": "ok", "service": "api"}


def test_a_missing_state_machine_is_an_automation_error(sessions, dev, make_ctx):
    automation = AwsAutomation([TARGET], sessions)
    with pytest.raises(AutomationError, match="not found"):
        automation.run(ActionSpec("stepfunctions", {"state_machine": "nope"}), {}, make_ctx(dev))


def test_poll_without_an_execution_is_an_automation_error(clients, dev, make_ctx):
    with pytest.raises(AutomationError, match="no Step Functions execution to follow"):
        TARGET.poll(clients, settings("ok"), make_ctx(dev), {})


def test_a_task_failure_in_a_parallel_branch_names_its_own_state():
    stamp = datetime(2026, 3, 2, tzinfo=timezone.utc)
    events = [
        {"id": 1, "type": "ExecutionStarted", "previousEventId": 0, "timestamp": stamp},
        {"id": 2, "type": "TaskStateEntered", "previousEventId": 1, "stateEnteredEventDetails": {"name": "Left"}},
        {"id": 3, "type": "TaskStateEntered", "previousEventId": 1, "stateEnteredEventDetails": {"name": "Right"}},
        {"id": 4, "type": "TaskScheduled", "previousEventId": 2},
        {"id": 5, "type": "TaskFailed", "previousEventId": 4,
         "taskFailedEventDetails": {"error": "Boom", "cause": "secret"}},
        {"id": 6, "type": "TaskTimedOut", "previousEventId": 3,
         "taskTimedOutEventDetails": {"error": "States.Timeout"}},
    ]
    assert progress_lines(events, since_id=3) == ["Task failed in Left: Boom",
                                                  "Task timed out in Right: States.Timeout"]
