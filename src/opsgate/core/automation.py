"""Routes a command's action to the automation target of its kind; the values templates may use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsgate.domain.catalog import ActionSpec
from opsgate.domain.templates import fill
from opsgate.errors import AutomationError
from opsgate.ports import Automation, PlannedCall, RunContext, RunResult

def template_values(params: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    env = ctx.environment
    return {
        **params,
        "request_id": ctx.request_id,
        "person": ctx.person_id,
        "environment_account": env.account if env else "",
        "environment_region": env.region if env else "",
    }




class AutomationRouter:
    """One Automation that hands each action to the target registered for its kind."""

    def __init__(self, targets: Mapping[str, Automation]) -> None:
        self.targets = dict(targets)

    def _target(self, action: ActionSpec) -> Automation:
        target = self.targets.get(action.kind)
        if target is None:
            raise AutomationError(f"no automation target of kind `{action.kind}` is configured in this opsgate")
        return target

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        return self._target(action).plan(action, params, ctx)

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        return self._target(action).run(action, params, ctx)

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        return self._target(action).poll(action, params, ctx, checkpoint)
