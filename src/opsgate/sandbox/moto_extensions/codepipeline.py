"""CodePipeline: executions that stop at manual approvals, GetPipelineState, PutApprovalResult.

moto marks an execution Succeeded the moment it starts. Here StartPipelineExecution runs the
stages in order and stops at the first stage holding a manual approval action (category
`Approval`): that action waits, with a token, until PutApprovalResult. Approved moves on to the
next approval or the end; Rejected fails the stage and the execution. When the approval action's
configuration names a `NotificationArn`, the approval notification CodePipeline sends is
published to that SNS topic, in AWS's JSON shape.

ListPipelineExecutions says who started each execution (`trigger`: the caller's ARN, as AWS
reports a StartPipelineExecution) and what it built (`sourceRevisions`, from the call's
`sourceRevisions` overrides). `backdate_executions` moves an execution's times into the past, so
the sandbox's release history spreads over days as a real one does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.codepipeline.models import CodePipelineBackend, PipelineExecution, codepipeline_backends
from moto.codepipeline.responses import CodePipelineResponse
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult
from moto.sns.models import sns_backends
from moto.sts.models import sts_backends

from opsgate.sandbox.moto_extensions._common import aws_error, now, serialized

APPROVAL_TIMEOUT = timedelta(days=7)  # CodePipeline's default for a manual approval


@dataclass
class ActionRun:
    status: str = "InProgress"
    token: str | None = None
    summary: str | None = None
    changed: datetime = field(default_factory=now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"actionExecutionId": self.id, "status": self.status,
                                     "lastStatusChange": self.changed}
        if self.token and self.status == "InProgress":
            described["token"] = self.token
        if self.summary:
            described["summary"] = self.summary
        return described


@dataclass
class PipelineRun:
    execution_id: str
    stages: dict[str, str] = field(default_factory=dict)  # stage name → status, for stages reached
    actions: dict[tuple[str, str], ActionRun] = field(default_factory=dict)


@dataclass
class StartFacts:
    """What moto's execution record lacks: who started it and from which source revisions."""

    started_by: str  # the caller's ARN
    source_revisions: list[dict[str, str]] = field(default_factory=list)


class ApprovalBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.runs: dict[str, PipelineRun] = {}  # pipeline name → its latest execution
        self.started: dict[str, StartFacts] = {}  # execution id → how it was started


approval_backends = BackendDict(ApprovalBackend, "codepipeline")


def _is_approval(action: dict[str, Any]) -> bool:
    return action.get("actionTypeId", {}).get("category") == "Approval"


def _walk(moto: CodePipelineBackend, pipeline: dict[str, Any], run: PipelineRun, start: int) -> None:
    """Run stages from index `start` until one waits for an approval or the pipeline is done."""
    execution = moto.get_pipeline_execution(pipeline["name"], run.execution_id)
    for stage in pipeline["stages"][start:]:
        approvals = [a for a in stage["actions"] if _is_approval(a)]
        for action in stage["actions"]:
            if not _is_approval(action):
                run.actions[(stage["name"], action["name"])] = ActionRun(status="Succeeded")
        if approvals:
            run.stages[stage["name"]] = "InProgress"
            for action in approvals:
                run.actions[(stage["name"], action["name"])] = ActionRun(token=str(uuid.uuid4()))
                _notify(moto, pipeline, stage["name"], action, run)
            return
        run.stages[stage["name"]] = "Succeeded"
    _set_status(execution, "Succeeded")


def _set_status(execution: PipelineExecution, status: str, summary: str | None = None) -> None:
    """moto's own record of the execution, which ListPipelineExecutions and GetPipelineExecution read."""
    execution.status, execution.status_summary, execution.last_update_time = status, summary, now()


def _notify(moto: CodePipelineBackend, pipeline: dict[str, Any], stage: str, action: dict[str, Any],
            run: PipelineRun) -> None:
    topic = action.get("configuration", {}).get("NotificationArn")
    if not topic:
        return
    region, name = moto.region_name, pipeline["name"]
    link = f"https://console.aws.amazon.com/codepipeline/home?region={region}#/view/{name}"
    message = {
        "region": region,
        "consoleLink": link,
        "approval": {key: value for key, value in {
            "pipelineName": name, "stageName": stage, "actionName": action["name"],
            "token": run.actions[(stage, action["name"])].token,
            "expires": (now() + APPROVAL_TIMEOUT).strftime("%Y-%m-%dT%H:%MZ"),
            "externalEntityLink": action["configuration"].get("ExternalEntityLink"),
            "approvalReviewLink": f"{link}/{stage}/{action['name']}/approve/{run.execution_id}",
            "customData": action["configuration"].get("CustomData"),
        }.items() if value is not None},
    }
    subject = f"APPROVAL NEEDED: AWS CodePipeline {name} for action {action['name']}"[:100]
    sns_backends[moto.account_id][region].publish(json.dumps(message), arn=topic, subject=subject)


def _backends(response: CodePipelineResponse) -> tuple[CodePipelineBackend, ApprovalBackend]:
    account, region = response.current_account, response.region
    return codepipeline_backends[account][region], approval_backends[account][region]


@serialized
def start_pipeline_execution(self: CodePipelineResponse) -> ActionResult:
    moto, approvals = _backends(self)
    name = self._get_param("name")
    execution_id = moto.start_pipeline_execution(name, self._get_param("variables"))
    earlier = approvals.runs.get(name)
    if earlier:  # a newer execution supersedes one still waiting
        execution = moto.get_pipeline_execution(name, earlier.execution_id)
        if execution.status == "InProgress":
            _set_status(execution, "Superseded")
    run = approvals.runs[name] = PipelineRun(execution_id)
    approvals.started[execution_id] = StartFacts(_caller_arn(self), _revisions(self._get_param("sourceRevisions") or []))
    _set_status(moto.get_pipeline_execution(name, execution_id), "InProgress")
    _walk(moto, moto.get_pipeline(name)[0], run, 0)
    return ActionResult({"pipelineExecutionId": execution_id})


def _caller_arn(response: CodePipelineResponse) -> str:
    """The ARN of whoever signed the call (an assumed role's session, or an IAM user)."""
    sts = sts_backends[response.current_account][response.partition]
    return sts.get_caller_identity(response.get_access_key(), response.region)[1]


def _revisions(overrides: list[dict[str, str]]) -> list[dict[str, str]]:
    """StartPipelineExecution's `sourceRevisions` overrides as ListPipelineExecutions reports them."""
    return [{"actionName": o.get("actionName", ""), "revisionId": o.get("revisionValue", ""),
             "revisionSummary": o.get("revisionValue", "")} for o in overrides]


def list_pipeline_executions(self: CodePipelineResponse) -> ActionResult:
    moto, approvals = _backends(self)
    name = self._get_param("pipelineName")
    summaries = moto.list_pipeline_executions(name, self._get_param("maxResults"))
    for summary in summaries:
        facts = approvals.started.get(summary["pipelineExecutionId"])
        if facts is not None:
            summary["trigger"] = {"triggerType": "StartPipelineExecution", "triggerDetail": facts.started_by}
            summary["sourceRevisions"] = facts.source_revisions
    return ActionResult({"pipelineExecutionSummaries": summaries})


def backdate_executions(pipeline: str, times: dict[str, tuple[datetime, datetime]], *, account_id: str,
                        region: str) -> None:
    """Sandbox hook: give executions (by id) these start and last-update times (aware, UTC)."""
    moto = codepipeline_backends[account_id][region]
    for execution_id, (started, updated) in times.items():
        execution = moto.get_pipeline_execution(pipeline, execution_id)
        execution.start_time = started.astimezone(timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC
        execution.last_update_time = updated.astimezone(timezone.utc).replace(tzinfo=None)


def get_pipeline_state(self: CodePipelineResponse) -> ActionResult:
    moto, approvals = _backends(self)
    pipeline, metadata = moto.get_pipeline(self._get_param("name"))
    run = approvals.runs.get(pipeline["name"])
    stages = []
    for stage in pipeline["stages"]:
        state: dict[str, Any] = {"stageName": stage["name"], "inboundTransitionState": {"enabled": True}}
        actions = []
        for action in stage["actions"]:
            action_state: dict[str, Any] = {"actionName": action["name"]}
            if run and (stage["name"], action["name"]) in run.actions:
                action_state["latestExecution"] = run.actions[(stage["name"], action["name"])].describe()
            actions.append(action_state)
        state["actionStates"] = actions
        if run and stage["name"] in run.stages:
            state["latestExecution"] = {"pipelineExecutionId": run.execution_id, "status": run.stages[stage["name"]]}
        stages.append(state)
    return ActionResult({"pipelineName": pipeline["name"], "pipelineVersion": pipeline["version"],
                         "stageStates": stages, "created": metadata["created"], "updated": metadata["updated"]})


@serialized
def put_approval_result(self: CodePipelineResponse) -> ActionResult:
    moto, approvals = _backends(self)
    pipeline, _ = moto.get_pipeline(self._get_param("pipelineName"))
    stage_name, action_name = self._get_param("stageName"), self._get_param("actionName")
    result = self._get_param("result") or {}
    index, stage = next(((i, s) for i, s in enumerate(pipeline["stages"]) if s["name"] == stage_name), (None, None))
    if stage is None:
        raise aws_error("StageNotFoundException", f"Stage {stage_name} was not found in pipeline {pipeline['name']}")
    if not any(a["name"] == action_name and _is_approval(a) for a in stage["actions"]):
        raise aws_error("ActionNotFoundException", f"Approval action {action_name} was not found in stage {stage_name}")
    if result.get("status") not in ("Approved", "Rejected"):
        raise aws_error("ValidationException", "result.status must be Approved or Rejected")
    run = approvals.runs.get(pipeline["name"])
    waiting = run.actions.get((stage_name, action_name)) if run else None
    if waiting is None or waiting.status != "InProgress":
        raise aws_error("ApprovalAlreadyCompletedException",
                        f"No approval is waiting at {stage_name}/{action_name}: it was answered or never reached")
    if self._get_param("token") != waiting.token:
        raise aws_error("InvalidApprovalTokenException", "The token for the approval request is not valid")
    _answer(moto, pipeline, run, index, waiting, result)
    return ActionResult({"approvedAt": waiting.changed})


def _answer(moto: CodePipelineBackend, pipeline: dict[str, Any], run: PipelineRun, index: int, waiting: ActionRun,
            result: dict[str, Any]) -> None:
    approved = result["status"] == "Approved"
    waiting.status = "Succeeded" if approved else "Failed"
    waiting.summary, waiting.changed = result.get("summary"), now()
    stage = pipeline["stages"][index]["name"]
    if not approved:
        run.stages[stage] = "Failed"
        _set_status(moto.get_pipeline_execution(pipeline["name"], run.execution_id), "Failed", result.get("summary"))
    elif all(a.status == "Succeeded" for (s, _), a in run.actions.items() if s == stage):
        run.stages[stage] = "Succeeded"
        _walk(moto, pipeline, run, index + 1)


EXTENSIONS = {
    CodePipelineResponse: {
        "start_pipeline_execution": start_pipeline_execution,
        "list_pipeline_executions": list_pipeline_executions,
        "get_pipeline_state": get_pipeline_state,
        "put_approval_result": put_approval_result,
    },
}
