"""Routes a command's action to the automation target of its kind; the values templates may use.

One kind is handled here: `summary`, a read-only action made of several read actions (an
environment overview: alarms, cost, pipeline status) whose answers are shown together. A part
that fails is shown as failed; the others still answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError
from opsgate.ports import Automation, PlannedCall, RunContext, RunResult

SUMMARY = "summary"


def template_values(params: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    env = ctx.environment
    return {
        **params,
        "request_id": ctx.request_id,
        "person": ctx.person_id,
        "environment_account": env.account if env else "",
        "environment_region": env.region if env else "",
    }


def summary_parts(action: ActionSpec) -> list[ActionSpec]:
    """The parts of a `summary` action: `{kind: summary, parts: [{kind: alarms}, {kind: cost}]}`."""
    parts = action.settings.get("parts", [])
    return [ActionSpec(part["kind"], {k: v for k, v in part.items() if k != "kind"}) for part in parts]


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
        if action.kind == SUMMARY:
            return [call for part in summary_parts(action) for call in self.plan(part, params, ctx)]
        return self._target(action).plan(action, params, ctx)

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        if action.kind == SUMMARY:
            return self._summary(action, params, ctx)
        return self._target(action).run(action, params, ctx)

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        return self._target(action).poll(action, params, ctx, checkpoint)

    def _summary(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        sections, correlation, ok = [], {}, True
        for part in summary_parts(action):
            try:
                result = self.run(part, params, ctx)
            except AutomationError as err:
                result = RunResult(ok=False, summary=err.message)
            ok = ok and result.ok
            sections.append(result.summary if result.ok else f"⚠️ {part.kind}: {result.summary}")
            correlation.update({f"{part.kind}.{k}": v for k, v in result.correlation.items()})
        return RunResult(ok=ok, summary="\n\n".join(sections), correlation=correlation)
