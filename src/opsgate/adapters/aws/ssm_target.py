"""The `ssm-automation` target: start an SSM Automation runbook and follow it step by step.

```yaml
action: {kind: ssm-automation, document: acme-restart-service, parameters: {Service: "{service}"}, timeout: 30m}
```
The request id, turned into a UUID, is the ClientToken: a retried `run` gets the execution the
first one started. Runbook parameters may carry secrets, so only their names are ever shown (in a
plan, a summary, a failure message). `poll` reports each step as it finishes; an execution still
running after `timeout` is reported as not finished and left running, like a Step Functions one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.names import console_url, is_arn, wildcard_placeholders
from opsgate.adapters.aws.settings_check import duration_problems, ensure_valid, required_text, unknown_keys
from opsgate.adapters.aws.target import Clients, Permission, arn
from opsgate.domain.catalog import Environment
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("document", "parameters", "timeout")
DEFAULT_TIMEOUT = "1h"
SUCCEEDED = {"Success", "CompletedWithSuccess"}
FAILED = {"Failed": "failed", "TimedOut": "timed out", "Cancelled": "was cancelled", "Rejected": "was rejected",
          "CompletedWithFailure": "failed", "Exited": "exited"}
STEP_DONE = SUCCEEDED | set(FAILED)
SECRET_MIN_LENGTH = 8  # shorter values are unlikely secrets, and removing them would garble AWS's text
_AWS_OWNED = ("aws", "amazon", "amzn")  # prefixes SSM reserves for AWS's own runbooks
# A fixed namespace turns any request id into the UUID StartAutomationExecution wants as ClientToken.
_CLIENT_TOKENS = uuid.UUID("6f1d3c2e-9a57-4b8e-8d0c-0b7c1e5a2f44")


def client_token(request_id: str) -> str:
    return str(uuid.uuid5(_CLIENT_TOKENS, request_id))


def document_arn(environment: Environment, document: str) -> str:
    """What IAM checks for StartAutomationExecution; AWS's own runbooks have no account in theirs."""
    if is_arn(document):
        return document
    if document.lower().startswith(_AWS_OWNED):
        return f"arn:aws:ssm:{environment.region}::document/{document}"
    return arn(environment, "ssm", f"document/{document}")


def execution_console_url(region: str, execution_id: str) -> str:
    return console_url(region, f"systems-manager/automation/execution/{execution_id}?region={region}")


def runbook_parameters(settings: dict[str, Any]) -> dict[str, list[str]]:
    """SSM wants every value as a list of text."""
    parameters = settings.get("parameters", {})
    return {name: value if isinstance(value, list) else [value] for name, value in parameters.items()}


def parameter_problems(settings: dict[str, Any]) -> list[str]:
    parameters = settings.get("parameters")
    if parameters is None:
        return []
    if not isinstance(parameters, Mapping):
        return ["parameters: must be a mapping of runbook parameter names to text or lists of text"]
    return [f"parameters.{name}: must be text or a list of text" for name, value in parameters.items()
            if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)))]


def redact(text: str, settings: dict[str, Any]) -> str:
    """Remove parameter values from text AWS wrote (a failure message may quote a secret)."""
    for values in runbook_parameters(settings).values():
        for value in values:
            if len(value) >= SECRET_MIN_LENGTH:
                text = text.replace(value, "***")
    return text


def step_lines(steps: list[dict[str, Any]], reported: set[str], settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(step id, chat line) for each finished step not reported yet, in execution order."""
    lines = []
    for step in steps:
        step_id = step.get("StepExecutionId") or step["StepName"]
        if step["StepStatus"] in STEP_DONE and step_id not in reported:
            failure = step.get("FailureMessage") if step["StepStatus"] not in SUCCEEDED else None
            detail = f": {shorten(redact(failure, settings), 200)}" if failure else ""
            lines.append((step_id, f"Step {step['StepName']}: {step['StepStatus']}{detail}"))
    return lines


class SsmAutomationTarget:
    kind: ClassVar[str] = "ssm-automation"
    service: ClassVar[str] = "ssm"  # IAM prefix, for messages and policies

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.now = now

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += required_text(settings, "document", "an SSM Automation runbook name or ARN")
        problems += parameter_problems(settings)
        problems += duration_problems(settings, "timeout")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        document = wildcard_placeholders(str(settings.get("document", "*")))
        executions = arn(environment, "ssm", "automation-execution/*")
        return [
            Permission("ssm:StartAutomationExecution", document_arn(environment, document)),
            Permission("ssm:StartAutomationExecution", executions),  # IAM checks the new execution too
            Permission("ssm:GetAutomationExecution", executions),
        ]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        request = self._start_request(settings, ctx)
        request["Parameters"] = {name: "<hidden>" for name in request["Parameters"]}  # values may be secrets
        return [
            PlannedCall("ssm:StartAutomationExecution", document_arn(environment, settings["document"]), request),
            PlannedCall("ssm:GetAutomationExecution", arn(environment, "ssm", "automation-execution/<started>"),
                        {"AutomationExecutionId": "<from StartAutomationExecution>"}),
        ]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        started = clients.client("ssm").start_automation_execution(**self._start_request(settings, ctx))
        execution_id = started["AutomationExecutionId"]
        correlation = self._correlation(clients, execution_id)
        request_id = started.get("ResponseMetadata", {}).get("RequestId")
        if request_id:
            correlation["aws_request_id"] = request_id
        checkpoint = {"execution_id": execution_id, "reported_steps": [], "started_at": self.now().isoformat()}
        return RunResult(ok=True, pending=True, summary=f"Started runbook {settings['document']} ({execution_id})",
                         checkpoint=checkpoint, correlation=correlation)

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext,
             checkpoint: dict[str, Any]) -> RunResult:
        execution_id = checkpoint.get("execution_id")
        if not execution_id:
            raise AutomationError("There is no SSM Automation execution to follow "
                                  "(the checkpoint has no execution_id)")
        ssm = clients.client("ssm")
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        reported = list(checkpoint.get("reported_steps", []))
        new = step_lines(execution.get("StepExecutions", []), set(reported), settings)
        checkpoint = {**checkpoint, "reported_steps": reported + [step_id for step_id, _ in new]}
        correlation = self._correlation(clients, execution_id)
        status, document = execution["AutomationExecutionStatus"], settings["document"]
        summary, ok = self._outcome(document, status, execution, settings, checkpoint)
        pending = summary is None
        if pending:
            summary = f"Runbook {document} is {status}"
        return RunResult(ok=ok, pending=pending, summary=summary, output={"status": status},
                         checkpoint=checkpoint if pending else {}, correlation=correlation,
                         progress=tuple(line for _, line in new))

    def _outcome(self, document: str, status: str, execution: dict[str, Any], settings: dict[str, Any],
                 checkpoint: dict[str, Any]) -> tuple[str | None, bool]:
        """(summary, ok) once there is nothing more to follow; (None, True) while the runbook runs."""
        if status in SUCCEEDED:
            return f"Runbook {document} succeeded ({len(checkpoint['reported_steps'])} steps)", True
        if status in FAILED:
            failure = shorten(redact(execution.get("FailureMessage") or "", settings))
            return f"Runbook {document} {FAILED[status]}" + (f": {failure}" if failure else ""), False
        timeout_s = parse_duration_s(settings.get("timeout", DEFAULT_TIMEOUT))
        if (self.now() - datetime.fromisoformat(checkpoint["started_at"])).total_seconds() > timeout_s:
            return (f"Runbook {document} is still running after {format_duration_s(timeout_s)}; opsgate stopped "
                    f"following it (it was not stopped)"), False
        return None, True

    @staticmethod
    def _correlation(clients: Clients, execution_id: str) -> dict[str, str]:
        return {"execution_id": execution_id,
                "console_url": execution_console_url(clients.environment.region, execution_id)}

    @staticmethod
    def _start_request(settings: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        return {"DocumentName": settings["document"], "Parameters": runbook_parameters(settings),
                "ClientToken": client_token(ctx.request_id)}
