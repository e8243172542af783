"""The `stepfunctions` target: start a Standard workflow execution and follow it to the end.

```yaml
action: {kind: stepfunctions, state_machine: release, input: {service: "{service}"}, timeout: 30m}
```
The execution is named after the opsgate request, so a retried `run` can never start a second
execution: AWS answers `ExecutionAlreadyExists` (or returns the running one) and the target follows
the one that exists. `poll` reports state changes as progress lines and the outcome at the end. An
execution still running after `timeout` is reported as not finished, and left running: stopping a
half-done workflow is a decision for a person.

`answer_task` answers a `.waitForTaskToken` step (an approval inside the workflow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import compact_json, parse_json, shorten
from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.names import arn_region, console_url, resource_arn, wildcard_placeholders
from opsgate.adapters.aws.settings_check import (
    duration_problems,
    ensure_valid,
    flag,
    flag_problems,
    mapping_problems,
    name_or_arn,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("state_machine", "input", "timeout", "show_result")
DEFAULT_TIMEOUT = "1h"
DENIED_ERROR = "opsgate.Denied"  # the error a workflow sees when a person denies its approval step
_FAILED = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was aborted"}
_EXECUTION_NAME = re.compile(r"[^A-Za-z0-9_-]")  # execution names: 1-80 of these
_TASK_FAILED = {"TaskFailed", "LambdaFunctionFailed", "ActivityFailed", "LambdaFunctionStartFailed",
                "TaskStartFailed", "TaskSubmitFailed"}
_TASK_TIMED_OUT = {"TaskTimedOut", "LambdaFunctionTimedOut", "ActivityTimedOut"}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def state_machine_arn(environment: Environment, state_machine: str) -> str:
    return resource_arn(environment, "states", "stateMachine", state_machine)


def execution_arn(machine_arn: str, name: str) -> str:
    """`arn:aws:states:r:a:stateMachine:m` + `n` → `arn:aws:states:r:a:execution:m:n`."""
    parts = machine_arn.split(":")
    return ":".join(parts[:5] + ["execution", parts[6], name])


def execution_name(request_id: str) -> str:
    return _EXECUTION_NAME.sub("-", request_id)[:80]


def execution_console_url(arn: str) -> str:
    region = arn_region(arn)
    return console_url(region, f"states/home?region={region}#/v2/executions/details/{arn}")


def answer_task(clients: Clients, token: str, approved: bool, output: dict[str, Any] | None = None,
                reason: str | None = None) -> None:
    """Answer a `.waitForTaskToken` step: success with `output`, or failure `opsgate.Denied`."""
    sfn = clients.client("stepfunctions")
    role = clients.environment.role_arn
    with map_boto_errors(service="states", role_arn=role):
        if approved:
            sfn.send_task_success(taskToken=token, output=json.dumps(output or {}))
        else:
            sfn.send_task_failure(taskToken=token, error=DENIED_ERROR,
                                  cause=shorten(reason or "denied in opsgate", 32_768))


def progress_lines(events: list[dict[str, Any]], since_id: int) -> list[str]:
    """Chat lines for the events after `since_id`: states entered and exited, tasks that failed."""
    by_id = {event["id"]: event for event in events}
    lines = []
    for event in events:
        if event["id"] <= since_id:
            continue
        kind = event["type"]
        if kind.endswith("StateEntered"):
            lines.append(f"Entered state {event['stateEnteredEventDetails']['name']}")
        elif kind.endswith("StateExited"):
            lines.append(f"Exited state {event['stateExitedEventDetails']['name']}")
        elif kind in _TASK_FAILED or kind in _TASK_TIMED_OUT:
            happened = "failed" if kind in _TASK_FAILED else "timed out"
            error = _details(event).get("error")
            because = f": {shorten(error, 200)}" if error else ""
            lines.append(f"Task {happened} in {_state_of(event, by_id)}{because}")
    return lines


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((value for key, value in event.items() if key.endswith("EventDetails")), {})


def _state_of(event: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str:
    """The state a task event belongs to: follow previousEventId back to the state's entry."""
    seen: set[int] = set()
    current = by_id.get(event.get("previousEventId", 0))
    while current is not None and current["id"] not in seen:
        if "stateEnteredEventDetails" in current:
            return current["stateEnteredEventDetails"]["name"]
        seen.add(current["id"])
        current = by_id.get(current.get("previousEventId", 0))
    return "an unknown state"


def _history(sfn: Any, arn: str) -> Iterator[dict[str, Any]]:
    # AWS has no "events after id N" filter: read every page (oldest first) and skip the seen ones.
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn,
                                                                  includeExecutionData=False):
        yield from page["events"]


class StepFunctionsTarget:
    kind: ClassVar[str] = "stepfunctions"
    service: ClassVar[str] = "states"  # IAM prefix, for messages and policies

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self.now = now

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += name_or_arn(settings, "state_machine", "states", "stateMachine", "state machine")
        problems += mapping_problems(settings, "input")
        problems += duration_problems(settings, "timeout")
        problems += flag_problems(settings, "show_result")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        if not isinstance(settings.get("state_machine"), str):
            return []  # invalid settings (validate says why) grant nothing, certainly not `*`
        machine = state_machine_arn(environment, wildcard_placeholders(settings["state_machine"]))
        executions = execution_arn(machine, "*")
        return [
            Permission("states:StartExecution", machine),
            Permission("states:DescribeExecution", executions),
            Permission("states:GetExecutionHistory", executions),
            # answer_task: opsgate answers the workflow's approval steps (.waitForTaskToken).
            Permission("states:SendTaskSuccess", machine),
            Permission("states:SendTaskFailure", machine),
        ]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        request = self._start_request(settings, environment, ctx)
        request["input"] = f"<{len(request['input'])} characters of JSON>"  # may hold secret values
        return [PlannedCall(api="states:StartExecution", target=request["stateMachineArn"], parameters=request)]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        sfn = clients.client("stepfunctions")
        request = self._start_request(settings, clients.environment, ctx)
        try:
            started = sfn.start_execution(**request)
            arn, started_at = started["executionArn"], started["startDate"]
        except sfn.exceptions.ExecutionAlreadyExists:
            # A retry of the same request: the execution named after it exists (maybe finished).
            arn = execution_arn(request["stateMachineArn"], request["name"])
            started_at = sfn.describe_execution(executionArn=arn)["startDate"]
        checkpoint = {"execution_arn": arn, "last_event_id": 0, "started_at": started_at.isoformat()}
        return RunResult(ok=True, pending=True, summary=f"Started execution {request['name']}",
                         checkpoint=checkpoint, correlation=self._correlation(arn))

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext,
             checkpoint: dict[str, Any]) -> RunResult:
        arn = checkpoint.get("execution_arn")
        if not arn:
            raise AutomationError("There is no Step Functions execution to follow "
                                  "(the checkpoint has no execution_arn)")
        sfn = clients.client("stepfunctions")
        execution = sfn.describe_execution(executionArn=arn)  # before the history, so it holds the last events
        events = list(_history(sfn, arn))
        since = int(checkpoint.get("last_event_id", 0))
        progress = tuple(progress_lines(events, since))
        checkpoint = {**checkpoint, "last_event_id": max([since] + [e["id"] for e in events])}
        status, name = execution["status"], execution["name"]
        common = {"correlation": self._correlation(arn), "progress": progress, "checkpoint": checkpoint}
        if status == "SUCCEEDED":
            summary, output = _success_report(name, execution, show_result=flag(settings, "show_result"))
            return RunResult(ok=True, summary=summary, output=output, **common)
        if status in _FAILED:
            summary, output = _failure_report(name, status, execution)
            return RunResult(ok=False, summary=summary, output=output, **common)
        started_at = datetime.fromisoformat(checkpoint["started_at"])
        timeout_s = parse_duration_s(settings.get("timeout", DEFAULT_TIMEOUT))
        if (self.now() - started_at).total_seconds() > timeout_s:
            summary = (f"Execution {name} is still running after {format_duration_s(timeout_s)}; opsgate stopped "
                       f"following it (it was not stopped). See {common['correlation']['console_url']}")
            return RunResult(ok=False, summary=summary, output={"status": status}, **common)
        return RunResult(ok=True, pending=True, summary=f"Execution {name} is {status.lower()}", **common)

    @staticmethod
    def _start_request(settings: dict[str, Any], environment: Environment, ctx: RunContext) -> dict[str, Any]:
        return {
            "stateMachineArn": state_machine_arn(environment, settings["state_machine"]),
            "name": execution_name(ctx.request_id),
            "input": json.dumps(settings.get("input", {}), ensure_ascii=False),
        }

    @staticmethod
    def _correlation(arn: str) -> dict[str, str]:
        return {"execution_arn": arn, "console_url": execution_console_url(arn)}


def _success_report(name: str, execution: dict[str, Any], *, show_result: bool) -> tuple[str, dict[str, Any]]:
    summary = f"Execution {name} succeeded"
    if execution.get("stopDate"):
        summary += f" in {format_duration_s((execution['stopDate'] - execution['startDate']).total_seconds())}"
    output: dict[str, Any] = {"status": "SUCCEEDED"}
    if show_result and execution.get("output") is not None:
        result = parse_json(execution["output"])
        shown = compact_json(result)
        if shown is not None:
            summary += f": `{shown}`"
            output["result"] = result
    return summary, output


def _failure_report(name: str, status: str, execution: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    error = shorten(execution.get("error") or "", 200)
    cause = shorten(execution.get("cause") or "")
    detail = ": ".join(part for part in (error, cause) if part)
    summary = f"Execution {name} {_FAILED[status]}" + (f": {detail}" if detail else "")
    return summary, {"status": status, "error": error, "cause": cause}
