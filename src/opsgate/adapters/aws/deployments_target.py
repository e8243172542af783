"""The `deployments` target (read): a service's recent deployments from CodePipeline, CodeDeploy and ECS.

```yaml
action:
  kind: deployments
  view: history                 # status | history | in-flight (the core picks what it shows)
  service: "{service}"          # one of `services`; empty or not given: every one
  last: "{last}"                # how many per source, 1-50 (default 10)
  services:
    web:
      pipeline: web-release
      codedeploy: {application: web, deployment_group: "{env}"}
      ecs: {cluster: acme, service: web}
```
Each source is read on its own: a pipeline that does not exist or a call the role may not make is
reported as a problem of that source, and the others still answer. The result's output holds the
deployments as JSON (`opsgate.domain.deployment.Deployment.to_dict`), unsorted; the core merges
them with opsgate's own requests and decides what to show (core.deploy_history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, ClassVar

from opsgate.adapters.aws.codedeploy_target import group_arn
from opsgate.adapters.aws.codepipeline_target import pipeline_arn
from opsgate.adapters.aws.deployment_sources import codedeploy_deployments, ecs_deployments, pipeline_deployments
from opsgate.adapters.aws.ecs_target import service_arn
from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.names import wildcard_placeholders
from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.settings_check import (
    choice,
    ensure_valid,
    number_problems,
    optional_text,
    required_text,
    unknown_keys,
    whole_number,
)
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.domain.deployment import Deployment, chosen_services
from opsgate.domain.templates import PLACEHOLDER
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

KIND = "deployments"
SETTINGS = ("services", "service", "view", "last")
SOURCES = ("pipeline", "codedeploy", "ecs")
VIEWS = ("status", "history", "in-flight")
DEFAULT_LAST, MAX_LAST = 10, 50
_SOURCE_KEYS = {"codedeploy": ("application", "deployment_group"), "ecs": ("cluster", "service")}


def source_problems(name: str, sources: Any) -> list[str]:
    """One service's sources: which AWS resources hold its deployments."""
    where = f"services.{name}"
    if not isinstance(sources, Mapping):
        return [f"{where}: must be a mapping with any of {', '.join(SOURCES)}"]
    problems = [f"{where}.{key}: unknown key; a service lists {', '.join(SOURCES)}"
                for key in sources if key not in SOURCES]
    problems += [f"{where}.{problem}" for problem in required_text(sources, "pipeline", "a pipeline name")
                 if "pipeline" in sources]
    for source, keys in _SOURCE_KEYS.items():
        if source not in sources:
            continue
        part = sources[source]
        if not isinstance(part, Mapping):
            problems.append(f"{where}.{source}: must be a mapping with {' and '.join(keys)}")
            continue
        problems += [f"{where}.{source}.{key}: unknown key; {source} takes {' and '.join(keys)}"
                     for key in part if key not in keys]
        problems += [f"{where}.{source}.{problem}" for key in keys for problem in required_text(part, key, "a name")]
    return problems


class DeploymentsTarget(OneShot):
    kind: ClassVar[str] = KIND
    service: ClassVar[str] = "deployments"  # several services; each call's errors name its own

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += choice(settings, "view", VIEWS)
        problems += optional_text(settings, "service", "a service name or a {placeholder}")
        problems += number_problems(settings, "last", minimum=1, maximum=MAX_LAST)
        services = settings.get("services")
        if not isinstance(services, Mapping) or not services:
            return problems + ["services: is required: a mapping of service names to where their deployments are, "
                               "e.g. {web: {pipeline: web-release, ecs: {cluster: acme, service: web}}}"]
        for name, sources in services.items():
            problems += source_problems(str(name), sources)
        wanted = settings.get("service")
        if isinstance(wanted, str) and wanted.strip() and not PLACEHOLDER.search(wanted) and wanted not in services:
            problems.append(f"service: {wanted!r} is not one of the services ({', '.join(services)})")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        needed: list[Permission] = []
        for sources in (settings.get("services") or {}).values():
            for action, resource in self._reads(sources, environment, wildcard_placeholders):
                needed.append(Permission(action, resource))
        return needed

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        return [PlannedCall(action, resource)
                for name in chosen_services(settings)
                for action, resource in self._reads(settings["services"][name], environment, str)]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        names = chosen_services(settings)
        last = whole_number(settings.get("last", DEFAULT_LAST))
        found: list[Deployment] = []
        problems: list[str] = []
        readers = [(name, source, read) for name in names
                   for source, read in self._readers(clients, name, settings["services"][name], last)]
        for name, source, read in readers:
            try:
                with map_boto_errors(service=source, role_arn=clients.environment.role_arn):
                    found += read()
            except AutomationError as err:
                problems.append(f"{name} ({source}): {err.message}")
        output = {"services": names, "view": settings.get("view", "status"), "last": last,
                  "deployments": [d.to_dict() for d in found], "problems": problems}
        summary = f"{len(found)} deployment{'s' if len(found) != 1 else ''} of {', '.join(names)}"
        if problems:
            summary += "\n" + "\n".join(f"⚠️ {problem}" for problem in problems)
        # Failed only when every source failed: what the others said is still worth showing.
        return RunResult(ok=not readers or len(problems) < len(readers), summary=summary, output=output)

    @staticmethod
    def _reads(sources: Mapping[str, Any], environment: Environment,
               name: Callable[[str], str]) -> list[tuple[str, str]]:
        """(IAM action, resource) of every call reading these sources; `name` fills or wildcards
        the resource names."""
        reads = []
        if "pipeline" in sources:
            pipeline = pipeline_arn(environment, name(str(sources["pipeline"])))
            reads += [("codepipeline:ListPipelineExecutions", pipeline), ("codepipeline:GetPipelineState", pipeline)]
        if "codedeploy" in sources:
            part = sources["codedeploy"]
            group = group_arn(environment, name(str(part["application"])), name(str(part["deployment_group"])))
            reads += [("codedeploy:ListDeployments", group), ("codedeploy:BatchGetDeployments", group)]
        if "ecs" in sources:
            part = sources["ecs"]
            reads.append(("ecs:DescribeServices",
                          service_arn(environment, name(str(part["cluster"])), name(str(part["service"])))))
        return reads

    @staticmethod
    def _readers(clients: Clients, service: str, sources: Mapping[str, Any],
                 last: int) -> list[tuple[str, Callable[[], list[Deployment]]]]:
        region = clients.environment.region
        readers: list[tuple[str, Callable[[], list[Deployment]]]] = []
        if "pipeline" in sources:
            readers.append(("codepipeline", partial(pipeline_deployments, clients.client("codepipeline"), service,
                                                    sources["pipeline"], region, last)))
        if "codedeploy" in sources:
            group = sources["codedeploy"]
            readers.append(("codedeploy", partial(codedeploy_deployments, clients.client("codedeploy"), service,
                                                  group["application"], group["deployment_group"], region, last)))
        if "ecs" in sources:
            ecs = sources["ecs"]
            readers.append(("ecs", partial(ecs_deployments, clients.client("ecs"), service, ecs["cluster"],
                                           ecs["service"], region)))
        return readers
