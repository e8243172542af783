"""AwsAutomation: the Automation port for every AWS target kind."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.aws.target import Permission, Target
from opsgate.core.automation import template_values
from opsgate.domain.catalog import ActionSpec, Environment
from opsgate.domain.templates import fill
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult


class AwsAutomation:
    def __init__(self, targets: Iterable[Target], sessions: SessionFactory) -> None:
        self.targets = {t.kind: t for t in targets}
        self.sessions = sessions

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def _prepare(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> tuple[Target, dict[str, Any], Environment]:
        target = self.targets.get(action.kind)
        if target is None:
            raise AutomationError(f"no AWS target of kind `{action.kind}`")
        if ctx.environment is None:
            raise AutomationError(f"`{action.kind}` actions run in an environment; this command names none")
        return target, fill(action.settings, template_values(params, ctx)), ctx.environment

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        target, settings, env = self._prepare(action, params, ctx)
        return target.plan(settings, env, ctx)

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        target, settings, env = self._prepare(action, params, ctx)
        with map_boto_errors(service=target.service, role_arn=env.role_arn):
            return target.run(self.sessions.clients(env, ctx), settings, ctx)

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        target, settings, env = self._prepare(action, params, ctx)
        with map_boto_errors(service=target.service, role_arn=env.role_arn):
            return target.poll(self.sessions.clients(env, ctx), settings, ctx, checkpoint)

    def permissions(self, action: ActionSpec, environment: Environment) -> list[Permission]:
        target = self.targets.get(action.kind)
        return target.permissions(action.settings, environment) if target else []
