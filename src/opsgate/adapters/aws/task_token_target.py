"""`stepfunctions-task`: answer a workflow's `.waitForTaskToken` step.

Used by opsgate's own `workflow step` requests (core.workflow), never declared in a catalog: the
token comes from the workflow's message and stays server-side. Approval sends SendTaskSuccess with
an output naming the approvers; denial, cancel or expiry sends SendTaskFailure with the reason.
"""

from __future__ import annotations

from typing import Any, ClassVar

from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.stepfunctions_target import answer_task
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult

DECISIONS = ("approve", "reject")


class TaskTokenTarget(OneShot):
    kind: ClassVar[str] = "stepfunctions-task"
    service: ClassVar[str] = "states"  # IAM prefix, for messages and policies

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = [] if settings.get("token") else ["token: is required"]
        if settings.get("decision") not in DECISIONS:
            problems.append("decision: must be approve or reject")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        # Task tokens carry no resource in IAM terms; the stepfunctions target grants these on
        # the state machines it starts, which is where the tokens come from.
        return []

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        api = "states:SendTaskSuccess" if settings.get("decision") == "approve" else "states:SendTaskFailure"
        return [PlannedCall(api=api, target="task token (kept by opsgate)", parameters={})]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        approved = settings.get("decision") == "approve"
        output = {"approved": True, "approvers": list(ctx.approvers), "request_id": ctx.request_id} if approved else None
        answer_task(clients, settings["token"], approved, output=output, reason=settings.get("reason"))
        if approved:
            return RunResult(ok=True, summary=f"Workflow step approved by {', '.join(ctx.approvers) or 'nobody'}; "
                                              "the workflow goes on.")
        return RunResult(ok=True, summary=f"Workflow step refused: {settings.get('reason') or 'no reason'}.")
