"""Routes a command's action to the automation target of its kind, and fills templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError
from opsgate.ports import Automation, PlannedCall, RunContext, RunResult

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def template_values(params: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    env = ctx.environment
    return {
        **params,
        "request_id": ctx.request_id,
        "person": ctx.person_id,
        "environment_account": env.account if env else "",
        "environment_region": env.region if env else "",
    }


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Replace {name} placeholders in strings, recursively through lists and mappings.

    Only plain names are allowed (no attribute or index access), so a catalog cannot reach
    into objects; unknown names were refused when the catalog was loaded.
    """
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1), m.group(0))), template)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


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
