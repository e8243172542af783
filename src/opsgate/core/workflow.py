"""Approvals that automation asks for: a Step Functions `.waitForTaskToken` step, a CodePipeline
manual approval. Each becomes an opsgate request under the same approval policy (approver roles,
no self-approval, expiry); approving runs the answer, denial or expiry sends the refusal. Tokens
stay server-side: a secret parameter, dropped once the request is final.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsgate.core.lifecycle import Lifecycle
from opsgate.core.runtime import SYSTEM
from opsgate.domain.catalog import ActionSpec, ApprovalRule, Command, CommandClass, Parameter, ParamType
from opsgate.domain.request import RequestRecord

WORKFLOW_STEP = "workflow step"
PIPELINE_APPROVAL = "pipeline approval"


def internal_commands(environments: tuple[str, ...]) -> list[Command]:
    env = Parameter("env", ParamType.ENVIRONMENT, values=environments)
    summary = Parameter("summary", required=False, default="", max_length=2000)
    return [
        Command(
            name=WORKFLOW_STEP, summary="Approve a step of a running Step Functions workflow",
            command_class=CommandClass.MUTATE,
            parameters=(Parameter("step", max_length=200), summary, env,
                        Parameter("parent", required=False, default="", max_length=64),
                        Parameter("token", secret=True, max_length=8192)),
            action=ActionSpec("stepfunctions-task", {"token": "{token}", "decision": "approve"}),
            on_refusal=ActionSpec("stepfunctions-task", {"token": "{token}", "decision": "reject", "reason": "{reason}"}),
            builtin=True, internal=True,
        ),
        Command(
            name=PIPELINE_APPROVAL, summary="Approve a CodePipeline manual approval action",
            command_class=CommandClass.MUTATE,
            parameters=(Parameter("pipeline", max_length=100), Parameter("stage", max_length=100),
                        Parameter("action", max_length=100), summary, env),
            action=ActionSpec("codepipeline", {"operation": "approve", "pipeline": "{pipeline}", "stage": "{stage}",
                                               "action": "{action}"}),
            on_refusal=ActionSpec("codepipeline", {"operation": "reject", "pipeline": "{pipeline}", "stage": "{stage}",
                                                   "action": "{action}", "summary": "{reason}"}),
            builtin=True, internal=True,
        ),
    ]


@dataclass(frozen=True, slots=True)
class StepRequest:
    """A workflow step waiting for a person: from the task token message the workflow sent."""

    message_id: str
    environment: str
    token: str
    step: str
    summary: str = ""
    parent_request_id: str | None = None  # the opsgate request that started the execution


@dataclass(frozen=True, slots=True)
class PipelineApproval:
    message_id: str
    environment: str
    pipeline: str
    stage: str
    action: str
    summary: str = ""


class AutomationApprovals:
    def __init__(self, lifecycle: Lifecycle, default_channel: str) -> None:
        self.lifecycle = lifecycle
        self.default_channel = default_channel
        rt = lifecycle.rt
        for command in internal_commands(tuple(rt.catalog.environments)):
            rt.register_internal(command)

    def ask_step(self, step: StepRequest) -> RequestRecord | None:
        rt = self.lifecycle.rt
        parent = None
        if step.parent_request_id:
            with rt.store.transaction() as tx:
                parent = tx.get_request(step.parent_request_id)
        approval = ApprovalRule()
        if parent is not None:
            parent_command = rt.command(parent.command)
            rule = parent_command.rules_for(step.environment).approval if parent_command else None
            approval = rule or approval
        params = {"step": step.step, "summary": step.summary, "env": step.environment,
                  "parent": parent.id if parent else "", "token": step.token}
        return self._open(WORKFLOW_STEP, params, step.environment, step.message_id, parent, "aws:stepfunctions",
                          "Step Functions", approval)

    def ask_pipeline(self, request: PipelineApproval) -> RequestRecord | None:
        params = {"pipeline": request.pipeline, "stage": request.stage, "action": request.action,
                  "summary": request.summary, "env": request.environment}
        return self._open(PIPELINE_APPROVAL, params, request.environment, request.message_id, None, "aws:codepipeline",
                          "CodePipeline", ApprovalRule())

    def _open(self, name: str, params: dict, environment: str, message_id: str, parent: RequestRecord | None,
              system_id: str, system_name: str, approval: ApprovalRule) -> RequestRecord | None:
        rt = self.lifecycle.rt
        return self.lifecycle.open_approval(
            rt.internal[name], params, environment,
            # the person behind the workflow may not approve its steps: they inherit the requester
            requester_id=parent.requester_id if parent else system_id,
            requester_name=parent.requester_name if parent else system_name,
            platform=parent.platform if parent else "aws",
            channel=parent.channel if parent else self.default_channel,
            thread=parent.thread if parent else None,
            approval=approval,
            idempotency_key=f"{name}:{message_id}",
        )

    def reject(self, message_id: str, environment: str, reason: str) -> None:
        """A message on an approval queue that is not an approval request: audited, never silently dropped."""
        rt = self.lifecycle.rt
        with rt.store.transaction() as tx:
            tx.append_audit(SYSTEM.audit("intake.rejected", environment=environment, decision="deny",
                                         rule="intake.format", reason=reason,
                                         correlation={"message_id": message_id}), rt.now())
