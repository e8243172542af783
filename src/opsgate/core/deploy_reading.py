"""What the deployments page reads, through the path `deploy status` and `deploy history` take.

The services are those the catalog's `deployments` commands list. A person sees a service in an
environment when one of those commands would let them ask for it in chat: its roles and argument
rules, decided by the policy with the values the page would pass. Channel and rate limits are left
out: they say where answers are posted and how often a command may run, and a page posts nothing.
A command that lists the service with the page's view (`status` or `history`) is asked first.

Reading is `DeploymentHistory.read` with that command's action, its `service`, `view` and `last`
set by the page: the AWS part runs under the environment's role, its session named `opsgate-pages`
with the viewer as source identity, so CloudTrail tells page reads apart and names who looked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from opsgate.core.deploy_history import DEPLOYMENTS, DeploymentHistory, DeploymentList
from opsgate.domain.catalog import ActionSpec, Catalog, Command, Environment
from opsgate.domain.decision import DecisionKind
from opsgate.domain.identity import Person
from opsgate.domain.templates import fill
from opsgate.policy import PolicyInput, decide
from opsgate.ports import RunContext

PAGE_READS = "pages"  # the RunContext request id of page reads: STS session `opsgate-pages`


@dataclass(frozen=True, slots=True)
class Reader:
    """The command a page read goes through, and the parameters chat would have given it."""

    command: Command
    params: dict[str, Any]


def listing_commands(catalog: Catalog) -> list[Command]:
    """The catalog's commands whose action lists deployments (in an environment they name)."""
    return [c for c in catalog.commands.values() if c.action is not None and c.action.kind == DEPLOYMENTS
            and c.environment_parameter is not None]


def _services_of(command: Command) -> Mapping[str, Any]:
    services = command.action.settings.get("services") if command.action else None
    return services if isinstance(services, Mapping) else {}


def deployment_services(catalog: Catalog) -> list[str]:
    """Every service a `deployments` command lists, in catalog order."""
    return list(dict.fromkeys(str(name) for c in listing_commands(catalog) for name in _services_of(c)))


def may_list(person: Person, catalog: Catalog) -> bool:
    """Whether any `deployments` command is open to this person's roles (the site's navigation)."""
    return any(person.has_role(c.roles) for c in listing_commands(catalog))


def chat_params(command: Command, service: str, environment: str) -> dict[str, Any] | None:
    """The parameters `command` would get in chat for this service and environment (defaults
    filled); None when one of its parameters does not accept the value."""
    wanted = {"service": service, command.environment_parameter.name: environment}  # type: ignore[union-attr]
    params = {p.name: p.default for p in command.parameters if p.default is not None}
    for parameter in command.parameters:
        if parameter.name in wanted:
            try:
                params[parameter.name] = parameter.convert(wanted[parameter.name])
            except ValueError:
                return None
    return params


def allows(command: Command, params: dict[str, Any], person: Person, environment: Environment,
           now: datetime) -> bool:
    """The policy's answer for this person asking in chat, where the answer is posted aside."""
    as_page = replace(command, channels=(), rate_limit=None)
    decision = decide(PolicyInput(command=as_page, params=params, person=person, sender=person.id, channel="",
                                  is_dm=False, now=now, environment=environment))
    return decision.kind is DecisionKind.ALLOW


def reader_for(catalog: Catalog, person: Person, service: str, environment: str, view: str,
               now: datetime) -> Reader | None:
    """The command through which `person` may read `service` in `environment`, or None."""
    env = catalog.environments[environment]
    listing = [c for c in listing_commands(catalog) if service in _services_of(c)]
    listing.sort(key=lambda c: c.action.settings.get("view", "status") != view)  # type: ignore[union-attr]
    for command in listing:
        params = chat_params(command, service, environment)
        if params is not None and allows(command, params, person, env, now):
            return Reader(command, params)
    return None


def read(history: DeploymentHistory, reader: Reader, service: str, environment: Environment, view: str,
         last: int, person_id: str) -> DeploymentList:
    """One service's deployments in one environment, as `view` chooses them."""
    assert reader.command.action is not None
    settings = {**reader.command.action.settings, "service": service, "view": view, "last": str(last)}
    ctx = RunContext(request_id=PAGE_READS, person_id=person_id, environment=environment)
    return history.read(ActionSpec(DEPLOYMENTS, settings), reader.params, ctx)


def services_deploying(catalog: Catalog, labels: Mapping[str, str], environment: str | None) -> list[str]:
    """The services whose sources name this deployment's pipeline, deployment group or ECS service
    (`labels` of a deployment event; each command's settings filled for `environment`)."""
    found: dict[str, None] = {}
    for command in listing_commands(catalog):
        values = {command.environment_parameter.name: environment or ""}  # type: ignore[union-attr]
        for name, sources in _services_of(command).items():
            if isinstance(sources, Mapping) and _names(fill(dict(sources), values), labels):
                found[str(name)] = None
    return list(found)


def _names(sources: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    codedeploy = sources.get("codedeploy") if isinstance(sources.get("codedeploy"), Mapping) else {}
    ecs = sources.get("ecs") if isinstance(sources.get("ecs"), Mapping) else {}
    wanted = ({"pipeline": sources.get("pipeline")},
              {"application": codedeploy.get("application"), "deployment_group": codedeploy.get("deployment_group")},
              {"cluster": ecs.get("cluster"), "service": ecs.get("service")})
    return any(all(value and labels.get(key) == value for key, value in each.items()) for each in wanted)
