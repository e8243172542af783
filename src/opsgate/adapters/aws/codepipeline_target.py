"""The `codepipeline` target: a pipeline's stage status, or the answer to its manual approval.

```yaml
action: {kind: codepipeline, pipeline: web-release, operation: status}
action: {kind: codepipeline, pipeline: web-release, operation: approve, stage: Approve, action: ProdApproval}
```
`approve` and `reject` find the waiting approval's token through GetPipelineState and answer it
with PutApprovalResult. This target is the only place opsgate calls PutApprovalResult, so an
approval can only be answered as the action of a catalog command, after opsgate's own policy
(roles, approvals, freezes) allowed it; the summary sent to AWS names the person and the request,
so the pipeline's history says who decided through which request.
"""

from __future__ import annotations

from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.names import console_url, wildcard_placeholders
from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.settings_check import (
    ensure_valid,
    is_template,
    optional_text,
    required_choice,
    required_text,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission, arn
from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("pipeline", "operation", "stage", "action", "summary")
OPERATIONS = ("status", "approve", "reject")
ANSWERS = {"approve": "Approved", "reject": "Rejected"}
SUMMARY_LIMIT = 512  # PutApprovalResult's summary


def pipeline_arn(environment: Environment, pipeline: str) -> str:
    return arn(environment, "codepipeline", pipeline)  # pipelines have no resource type in their ARN


def pipeline_console_url(region: str, pipeline: str) -> str:
    return console_url(region, f"codesuite/codepipeline/pipelines/{pipeline}/view?region={region}")


def stage_line(stage: dict[str, Any]) -> str:
    """`Approve: InProgress (execution 1a2b3c4d) — ProdApproval waits for approval`."""
    latest = stage.get("latestExecution")
    if not latest:
        return f"• {stage['stageName']}: not run yet"
    line = f"• {stage['stageName']}: {latest['status']} (execution {latest['pipelineExecutionId'][:8]})"
    waiting = [a["actionName"] for a in stage.get("actionStates", []) if _waiting(a)]
    return line + (f" — {', '.join(waiting)} waits for approval" if waiting else "")


def _waiting(action: dict[str, Any]) -> bool:
    latest = action.get("latestExecution") or {}
    return latest.get("status") == "InProgress" and bool(latest.get("token"))


def approval_summary(operation: str, settings: dict[str, Any], ctx: RunContext) -> str:
    said = f": {settings['summary']}" if settings.get("summary") else ""
    return shorten(f"{ANSWERS[operation]} in opsgate by {ctx.person_id} (request {ctx.request_id}){said}",
                   SUMMARY_LIMIT)


class CodePipelineTarget(OneShot):
    kind: ClassVar[str] = "codepipeline"
    service: ClassVar[str] = "codepipeline"  # IAM prefix, for messages and policies

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += required_text(settings, "pipeline", "a pipeline name")
        problems += required_choice(settings, "operation", OPERATIONS)
        operation = settings.get("operation")
        if operation == "status":
            problems += [f"{key}: only approve and reject use it"
                         for key in ("stage", "action", "summary") if key in settings]
        elif operation in ANSWERS or is_template(operation):
            problems += required_text(settings, "stage", "the stage holding the approval action")
            problems += required_text(settings, "action", "the manual approval action's name")
            problems += optional_text(settings, "summary", "text sent to AWS with the answer")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        pipeline = pipeline_arn(environment, wildcard_placeholders(str(settings.get("pipeline", "*"))))
        read = Permission("codepipeline:GetPipelineState", pipeline)
        if settings.get("operation") == "status":
            return [read]
        action = "/".join(wildcard_placeholders(str(settings.get(key, "*"))) for key in ("stage", "action"))
        return [read, Permission("codepipeline:PutApprovalResult", f"{pipeline}/{action}")]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        pipeline = pipeline_arn(environment, settings["pipeline"])
        read = PlannedCall("codepipeline:GetPipelineState", pipeline, {"name": settings["pipeline"]})
        if settings["operation"] == "status":
            return [read]
        operation = settings["operation"]
        answer = {"pipelineName": settings["pipeline"], "stageName": settings["stage"],
                  "actionName": settings["action"],
                  "result": {"status": ANSWERS[operation], "summary": approval_summary(operation, settings, ctx)},
                  "token": "<the waiting approval's, from GetPipelineState>"}
        action = f"{pipeline}/{settings['stage']}/{settings['action']}"
        return [read, PlannedCall("codepipeline:PutApprovalResult", action, answer)]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        codepipeline = clients.client("codepipeline")
        state = codepipeline.get_pipeline_state(name=settings["pipeline"])
        correlation = {"console_url": pipeline_console_url(clients.environment.region, settings["pipeline"])}
        if settings["operation"] == "status":
            return self._status(settings["pipeline"], state, correlation)
        return self._answer(codepipeline, settings, ctx, state, correlation)

    @staticmethod
    def _status(pipeline: str, state: dict[str, Any], correlation: dict[str, str]) -> RunResult:
        stages = state.get("stageStates", [])
        output = {"stages": [{"name": s["stageName"], "status": (s.get("latestExecution") or {}).get("status", ""),
                              "execution_id": (s.get("latestExecution") or {}).get("pipelineExecutionId", "")}
                             for s in stages]}
        summary = "\n".join([f"Pipeline {pipeline}:"] + [stage_line(stage) for stage in stages])
        return RunResult(ok=True, summary=summary, output=output, correlation=correlation)

    @staticmethod
    def _answer(codepipeline: Any, settings: dict[str, Any], ctx: RunContext, state: dict[str, Any],
                correlation: dict[str, str]) -> RunResult:
        where = f"{settings['pipeline']} / {settings['stage']} / {settings['action']}"
        stage = next((s for s in state.get("stageStates", []) if s["stageName"] == settings["stage"]), None)
        if stage is None:
            names = ", ".join(s["stageName"] for s in state.get("stageStates", []))
            return RunResult(ok=False, summary=f"Pipeline {settings['pipeline']} has no stage {settings['stage']} "
                                               f"(its stages: {names})", correlation=correlation)
        actions = stage.get("actionStates", [])
        action = next((a for a in actions if a["actionName"] == settings["action"]), None)
        if action is None:
            names = ", ".join(a["actionName"] for a in actions)
            return RunResult(ok=False, summary=f"Stage {settings['stage']} of {settings['pipeline']} has no action "
                                               f"{settings['action']} (its actions: {names})", correlation=correlation)
        if not _waiting(action):
            latest = (action.get("latestExecution") or {}).get("status")
            seen = f"its latest execution is {latest}" if latest else "it has not run yet"
            return RunResult(ok=False, summary=f"No approval is waiting at {where} ({seen}); nothing was answered",
                             correlation=correlation)
        operation = settings["operation"]
        answered = codepipeline.put_approval_result(
            pipelineName=settings["pipeline"], stageName=settings["stage"], actionName=settings["action"],
            result={"status": ANSWERS[operation], "summary": approval_summary(operation, settings, ctx)},
            token=action["latestExecution"]["token"])
        execution_id = (stage.get("latestExecution") or {}).get("pipelineExecutionId", "")
        correlation = {**correlation, "pipeline_execution_id": execution_id}
        request_id = answered.get("ResponseMetadata", {}).get("RequestId")
        if request_id:
            correlation["aws_request_id"] = request_id
        return RunResult(ok=True, summary=f"{ANSWERS[operation]} {where} (execution {execution_id[:8]})",
                         output={"answer": ANSWERS[operation]}, correlation=correlation)
