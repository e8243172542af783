"""The `builtin` automation target: actions that need no cloud account.

`echo` renders the action's `message` template as the result; `fail` renders it as an error (for
drills and tests of the failure path). Useful for trying opsgate and for commands whose real work
happens elsewhere (announcements, checklists).
"""

from __future__ import annotations

from typing import Any

from opsgate.core.automation import template_values
from opsgate.domain.catalog import ActionSpec
from opsgate.domain.templates import fill
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult


class BuiltinActions:
    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        message = fill(action.settings.get("message", ""), template_values(params, ctx))
        return [PlannedCall(api=f"builtin:{action.settings.get('operation')}", target="opsgate",
                            parameters={"message": message})]

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        message = fill(action.settings.get("message", ""), template_values(params, ctx))
        if action.settings.get("operation") == "fail":
            raise AutomationError(message)
        return RunResult(ok=True, summary=message, output={"message": message})

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError("builtin actions finish at once; there is nothing to follow")
