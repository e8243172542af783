"""The `ecs` target: roll a service back to the previous revision of its task definition.

```yaml
action: {kind: ecs, cluster: acme, service: "{service}", operation: rollback, timeout: 20m}
```
The previous revision is the newest ACTIVE revision of the service's task definition family below
the one it runs now (`web:7` → `web:6`, skipping deregistered ones). `poll` follows the new
deployment until the service is steady: its PRIMARY deployment COMPLETED (or, without rollout
states, the only deployment with every task running). A rollout still going after `timeout` is
reported as not finished and left alone: ECS keeps going, and a person decides what next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.names import console_url, wildcard_placeholders
from opsgate.adapters.aws.settings_check import (
    duration_problems,
    ensure_valid,
    required_choice,
    required_text,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission, arn
from opsgate.domain.catalog import Environment
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("cluster", "service", "operation", "timeout")
OPERATIONS = ("rollback",)
DEFAULT_TIMEOUT = "30m"


def service_arn(environment: Environment, cluster: str, service: str) -> str:
    return arn(environment, "ecs", f"service/{cluster}/{service}")


def service_console_url(region: str, cluster: str, service: str) -> str:
    return console_url(region, f"ecs/v2/clusters/{cluster}/services/{service}/deployments?region={region}")


def task_definition_name(task_definition: str) -> str:
    """`arn:aws:ecs:r:a:task-definition/web:7` → `web:7` (a `family:revision` stays as it is)."""
    return task_definition.rsplit("/", 1)[-1]


def family_and_revision(task_definition: str) -> tuple[str, int]:
    family, _, revision = task_definition_name(task_definition).rpartition(":")
    return family, int(revision)


def previous_revision(current: str, candidates: list[str]) -> str | None:
    """The newest candidate of the same family older than `current`; None when there is none."""
    family, revision = family_and_revision(current)
    parsed = [(family_and_revision(candidate), candidate) for candidate in candidates]
    older = [(number, candidate) for (name, number), candidate in parsed if name == family and number < revision]
    return max(older)[1] if older else None


def rollout(service: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """(the PRIMARY deployment, whether the service is steady on it)."""
    deployments = service.get("deployments", [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return None, False
    if "rolloutState" in primary:
        return primary, primary["rolloutState"] == "COMPLETED"
    return primary, len(deployments) == 1 and primary.get("runningCount") == primary.get("desiredCount")


def _service(ecs: Any, settings: dict[str, Any]) -> dict[str, Any]:
    answer = ecs.describe_services(cluster=settings["cluster"], services=[settings["service"]])
    services = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
    if not services:
        raise AutomationError(f"ECS service {settings['service']} was not found (or is not active) "
                              f"in cluster {settings['cluster']}")
    return services[0]


class EcsTarget:
    kind: ClassVar[str] = "ecs"
    service: ClassVar[str] = "ecs"  # IAM prefix, for messages and policies

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.now = now

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += required_text(settings, "cluster", "an ECS cluster name")
        problems += required_text(settings, "service", "an ECS service name")
        problems += required_choice(settings, "operation", OPERATIONS)
        problems += duration_problems(settings, "timeout")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        service = service_arn(environment, wildcard_placeholders(str(settings.get("cluster", "*"))),
                              wildcard_placeholders(str(settings.get("service", "*"))))
        return [
            Permission("ecs:DescribeServices", service),
            Permission("ecs:ListTaskDefinitions", "*"),  # IAM has no resource for it
            Permission("ecs:UpdateService", service),
        ]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        service = service_arn(environment, settings["cluster"], settings["service"])
        describe = {"cluster": settings["cluster"], "services": [settings["service"]]}
        revisions = {"familyPrefix": "<the service's family>", "status": "ACTIVE", "sort": "DESC"}
        update = {"cluster": settings["cluster"], "service": settings["service"],
                  "taskDefinition": "<previous revision>"}
        return [
            PlannedCall("ecs:DescribeServices", service, describe),
            PlannedCall("ecs:ListTaskDefinitions", "*", revisions),
            PlannedCall("ecs:UpdateService", service, update),
            PlannedCall("ecs:DescribeServices", service, {**describe, "until": "the service is steady"}),
        ]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        ecs, name = clients.client("ecs"), settings["service"]
        current = _service(ecs, settings)["taskDefinition"]
        family, _ = family_and_revision(current)
        pages = ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE", sort="DESC")
        previous = previous_revision(current, [arn for page in pages for arn in page.get("taskDefinitionArns", [])])
        if previous is None:
            return RunResult(ok=False, summary=f"Nothing to roll back to: {name} runs {task_definition_name(current)} "
                                               "and its family has no earlier ACTIVE revision")
        updated = ecs.update_service(cluster=settings["cluster"], service=name, taskDefinition=previous)
        primary, _ = rollout(updated["service"])
        correlation = self._correlation(clients, settings, primary)
        request_id = updated.get("ResponseMetadata", {}).get("RequestId")
        if request_id:
            correlation["aws_request_id"] = request_id
        checkpoint = {"task_definition": previous, "rolled_back_from": current,
                      "started_at": self.now().isoformat(), "last_progress": ""}
        return RunResult(ok=True, pending=True, correlation=correlation, checkpoint=checkpoint,
                         summary=f"Rolling {name} back from {task_definition_name(current)} "
                                 f"to {task_definition_name(previous)}")

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext,
             checkpoint: dict[str, Any]) -> RunResult:
        wanted = checkpoint.get("task_definition")
        if not wanted:
            raise AutomationError("There is no ECS rollout to follow (the checkpoint has no task_definition)")
        primary, steady = rollout(_service(clients.client("ecs"), settings))
        correlation = self._correlation(clients, settings, primary)
        name, target = settings["service"], task_definition_name(wanted)
        if primary is None or primary.get("taskDefinition") != wanted:
            replacing = task_definition_name(primary["taskDefinition"]) if primary else "nothing"
            return RunResult(ok=False, correlation=correlation, summary=f"Another deployment replaced the rollback "
                                                                        f"of {name}: it now rolls out {replacing}")
        running = f"{primary.get('runningCount', 0)}/{primary.get('desiredCount', 0)} tasks running"
        line = f"{target}: {running}"
        progress = (line,) if line != checkpoint.get("last_progress") else ()
        output = {"rollout_state": primary.get("rolloutState", ""), "running": primary.get("runningCount", 0)}
        summary, ok = self._outcome(name, target, primary, steady, settings, checkpoint)
        if summary is not None:
            return RunResult(ok=ok, summary=summary, output=output, correlation=correlation, progress=progress)
        return RunResult(ok=True, pending=True, summary=f"Rolling {name} back to {target}: {running}", output=output,
                         checkpoint={**checkpoint, "last_progress": line}, correlation=correlation, progress=progress)

    def _outcome(self, name: str, target: str, primary: dict[str, Any], steady: bool, settings: dict[str, Any],
                 checkpoint: dict[str, Any]) -> tuple[str | None, bool]:
        """(summary, ok) once there is nothing more to follow; (None, True) while the rollout goes on."""
        if steady:
            return f"{name} is steady on {target} ({primary.get('runningCount', 0)} tasks)", True
        if primary.get("rolloutState") == "FAILED":
            reason = shorten(primary.get("rolloutStateReason") or "", 300)
            return f"Rollback of {name} to {target} failed" + (f": {reason}" if reason else ""), False
        timeout_s = parse_duration_s(settings.get("timeout", DEFAULT_TIMEOUT))
        if (self.now() - datetime.fromisoformat(checkpoint["started_at"])).total_seconds() > timeout_s:
            return (f"{name} is not steady on {target} after {format_duration_s(timeout_s)}; opsgate stopped "
                    "following it (ECS keeps rolling out)"), False
        return None, True

    @staticmethod
    def _correlation(clients: Clients, settings: dict[str, Any], primary: dict[str, Any] | None) -> dict[str, str]:
        region = clients.environment.region
        correlation = {"console_url": service_console_url(region, settings["cluster"], settings["service"])}
        if primary and primary.get("id"):
            correlation["ecs_deployment_id"] = primary["id"]
        return correlation
