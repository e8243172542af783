"""SSM Automation: StartAutomationExecution, GetAutomationExecution, StopAutomationExecution.

moto stores Automation runbooks (documents with `mainSteps`) but cannot run them. Here an
execution walks the runbook's steps deterministically: each GetAutomationExecution finishes the
running step and starts the next, so a caller sees every state without waiting. An execution fails
at its last step when one of its parameter values is `fail`, or when `fail_automations` marked the
runbook.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult
from moto.ssm.exceptions import InvalidDocument
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from opsgate.sandbox.moto_extensions._common import aws_error, now, serialized

FAIL_VALUE = "fail"
FINISHED = ("Success", "Failed", "Cancelled", "TimedOut")
_UUID = re.compile(r"[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}")


@dataclass
class Step:
    name: str
    action: str
    status: str = "Pending"
    started: datetime | None = None
    ended: datetime | None = None
    failure: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def start(self) -> None:
        self.status, self.started = "InProgress", now()

    def finish(self, status: str, failure: str | None = None) -> None:
        self.status, self.ended, self.failure = status, now(), failure

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"StepName": self.name, "Action": self.action, "StepStatus": self.status,
                                     "StepExecutionId": self.id}
        if self.started:
            described["ExecutionStartTime"] = self.started
        if self.ended:
            described["ExecutionEndTime"] = self.ended
        if self.failure:
            described["FailureMessage"] = self.failure
        return described


@dataclass
class Execution:
    id: str
    document: str
    version: str
    parameters: dict[str, list[str]]
    steps: list[Step]
    fails_at: int | None  # index of the step that fails, None: every step succeeds
    client_token: str | None
    status: str = "InProgress"
    started: datetime = field(default_factory=now)
    ended: datetime | None = None
    failure: str | None = None

    def begin(self) -> None:
        if self.steps:
            self.steps[0].start()
        else:
            self._end("Success")

    def advance(self) -> None:
        """Finish the running step; start the next one or end the execution."""
        if self.status != "InProgress":
            return
        index = next(i for i, step in enumerate(self.steps) if step.status == "InProgress")
        step = self.steps[index]
        if index == self.fails_at:
            step.finish("Failed", f"Step fails when it is executing. Sandbox: step {step.name} was made to fail.")
            self._end("Failed", f"Step {step.name} failed: {step.failure}")
        elif index + 1 < len(self.steps):
            step.finish("Success")
            self.steps[index + 1].start()
        else:
            step.finish("Success")
            self._end("Success")

    def stop(self) -> None:
        for step in self.steps:
            if step.status == "InProgress":
                step.finish("Cancelled")
        self._end("Cancelled")

    def _end(self, status: str, failure: str | None = None) -> None:
        self.status, self.ended, self.failure = status, now(), failure

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "AutomationExecutionId": self.id, "DocumentName": self.document, "DocumentVersion": self.version,
            "ExecutionStartTime": self.started, "AutomationExecutionStatus": self.status,
            "StepExecutions": [step.describe() for step in self.steps], "StepExecutionsTruncated": False,
            "Parameters": self.parameters, "Outputs": {}, "Mode": "Auto",
        }
        running = next((step for step in self.steps if step.status == "InProgress"), None)
        if running:
            described["CurrentStepName"], described["CurrentAction"] = running.name, running.action
        if self.ended:
            described["ExecutionEndTime"] = self.ended
        if self.failure:
            described["FailureMessage"] = self.failure
        return described


class AutomationBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.executions: dict[str, Execution] = {}
        self.failing_documents: set[str] = set()

    def get(self, execution_id: str) -> Execution:
        execution = self.executions.get(execution_id)
        if execution is None:
            raise aws_error("AutomationExecutionNotFoundException",
                            f"Automation execution {execution_id} does not exist")
        return execution

    def by_client_token(self, token: str) -> Execution | None:
        return next((e for e in self.executions.values() if e.client_token == token.lower()), None)


automation_backends = BackendDict(AutomationBackend, "ssm")


def fail_automations(document: str, *, account_id: str, region: str) -> None:
    """Sandbox hook: executions of `document` started from now on fail at their last step."""
    automation_backends[account_id][region].failing_documents.add(document)


def _runbook(response: SimpleSystemManagerResponse, name: str, version: str | None) -> dict[str, Any]:
    try:
        document = ssm_backends[response.current_account][response.region].get_document(name, version, None, "JSON")
    except InvalidDocument:
        raise aws_error("AutomationDefinitionNotFoundException",
                        f"Automation definition {name} was not found") from None
    if document["DocumentType"] != "Automation":
        raise aws_error("AutomationDefinitionNotFoundException", f"{name} is not an Automation runbook")
    return {**json.loads(document["Content"]), "_version": document["DocumentVersion"]}


def _checked_parameters(runbook: dict[str, Any], given: dict[str, Any]) -> dict[str, list[str]]:
    declared = runbook.get("parameters") or {}
    for name in given:
        if name not in declared:
            accepted = ", ".join(declared) or "none"
            raise aws_error("InvalidAutomationExecutionParametersException",
                            f"Parameter {name} is not defined in the runbook; it accepts {accepted}")
    for name, spec in declared.items():
        if name not in given and "default" not in (spec or {}):
            raise aws_error("InvalidAutomationExecutionParametersException", f"Parameter {name} is required")
    return {name: value if isinstance(value, list) else [value] for name, value in given.items()}


@serialized
def start_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    backend = automation_backends[self.current_account][self.region]
    name, token = self._get_param("DocumentName"), self._get_param("ClientToken")
    if token is not None and not _UUID.fullmatch(token):
        raise aws_error("ValidationException", "ClientToken must be a UUID")
    runbook = _runbook(self, name, self._get_param("DocumentVersion"))
    parameters = _checked_parameters(runbook, self._get_param("Parameters") or {})
    if token and (earlier := backend.by_client_token(token)):
        # The same token again is the same request: answer with its execution, start nothing.
        if (earlier.document, earlier.parameters) != (name, parameters):
            raise aws_error("IdempotentParameterMismatch", "The ClientToken was used with other parameters")
        return ActionResult({"AutomationExecutionId": earlier.id})
    steps = [Step(step["name"], step.get("action", "aws:sleep")) for step in runbook.get("mainSteps") or []]
    failing = name in backend.failing_documents or any(FAIL_VALUE in values for values in parameters.values())
    execution = Execution(id=str(uuid.uuid4()), document=name, version=runbook["_version"], parameters=parameters,
                          steps=steps, fails_at=len(steps) - 1 if failing and steps else None,
                          client_token=token.lower() if token else None)
    execution.begin()
    backend.executions[execution.id] = execution
    return ActionResult({"AutomationExecutionId": execution.id})


@serialized
def get_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    execution = automation_backends[self.current_account][self.region].get(self._get_param("AutomationExecutionId"))
    execution.advance()
    return ActionResult({"AutomationExecution": execution.describe()})


@serialized
def stop_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    execution = automation_backends[self.current_account][self.region].get(self._get_param("AutomationExecutionId"))
    if execution.status in FINISHED:
        raise aws_error("InvalidAutomationStatusUpdateException",
                        f"Automation execution {execution.id} has already finished ({execution.status})")
    execution.stop()
    return ActionResult({})


EXTENSIONS = {
    SimpleSystemManagerResponse: {
        "start_automation_execution": start_automation_execution,
        "get_automation_execution": get_automation_execution,
        "stop_automation_execution": stop_automation_execution,
    },
}
