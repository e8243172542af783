"""Deployments: what AWS says (the `deployments` target) merged with what opsgate was asked.

A `deployments` action reads a service's recent deployments from CodePipeline, CodeDeploy and
ECS through the AWS target. This module adds opsgate's own records — requests of the deploy and
rollback commands each service lists under `commands` — and shows one time-ordered list:

- an AWS deployment that an opsgate request started (its correlation names the deployment id)
  carries the request: the person who asked, and a link to the request's page;
- a request that started nothing AWS reports (a Step Functions rollback, one waiting for an
  approval, one denied) is shown as its own entry.

Three views: `history` (the newest `last` entries), `status` (what is in flight, and the newest
finished deployment from each source) and `in-flight` (the environment summary's line). History
and status offer a rollback: a button whose line is the catalog's rollback command (the `rollback:`
of the command that asked) for that service and environment; clicking it goes through the policy
like typing it, and link to the deployments page when opsgate has a base URL.

`DeploymentHistory.read` is the one path to the entries: chat shows them as text, the deployments
page (core.deploy_reading, web/pages/deployments.py) as tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsgate.core import render
from opsgate.core.automation import template_values
from opsgate.domain.catalog import ActionSpec, Catalog, Command
from opsgate.domain.deployment import Deployment, Phase, chosen_services
from opsgate.domain.durations import format_duration_s
from opsgate.domain.message import Button
from opsgate.domain.pages import PageLinks
from opsgate.domain.request import RequestRecord, State
from opsgate.domain.templates import fill
from opsgate.errors import AutomationError
from opsgate.ports import Automation, PlannedCall, RequestQuery, RunContext, RunResult, Store

DEPLOYMENTS = "deployments"
RECORDS_KEY = "commands"  # under a service: the catalog commands whose requests are its deployments
DEFAULT_LAST = 10
MAX_BUTTONS = 5
# Correlation keys through which a request names the AWS deployment it started.
STARTED_KEYS = ("deployment_id", "rollback_deployment_id", "ecs_deployment_id")
ICONS = {Phase.WAITING: "⏸", Phase.RUNNING: "⏳", Phase.SUCCEEDED: "✅", Phase.FAILED: "❌", Phase.STOPPED: "⏹"}
_REQUEST_PHASES = {State.RECEIVED: Phase.WAITING, State.AWAITING_CONFIRMATION: Phase.WAITING,
                   State.AWAITING_APPROVAL: Phase.WAITING, State.APPROVED: Phase.RUNNING, State.RUNNING: Phase.RUNNING,
                   State.SUCCEEDED: Phase.SUCCEEDED, State.FAILED: Phase.FAILED, State.DENIED: Phase.STOPPED,
                   State.EXPIRED: Phase.STOPPED, State.CANCELLED: Phase.STOPPED}

PageUrl = Callable[[str], "str | None"]  # request id → its page, or None without a base URL


# -- settings: the AWS part and opsgate's part ----------------------------------------------------

def split_settings(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """(the settings the AWS target reads, each service's record commands)."""
    services = settings.get("services")
    if not isinstance(services, Mapping):
        return dict(settings), {}
    aws = {name: {k: v for k, v in (sources or {}).items() if k != RECORDS_KEY}
           for name, sources in services.items() if isinstance(sources, Mapping)}
    records = {name: tuple(sources.get(RECORDS_KEY) or ()) for name, sources in services.items()
               if isinstance(sources, Mapping)}
    return {**settings, "services": aws}, records


def with_records(aws_validate: Callable[[dict[str, Any]], list[str]]) -> Callable[[dict[str, Any]], list[str]]:
    """The config check of a `deployments` action: each service's `commands`, then the AWS part."""

    def validate(settings: dict[str, Any]) -> list[str]:
        problems = []
        services = settings.get("services")
        for name, sources in services.items() if isinstance(services, Mapping) else ():
            if not isinstance(sources, Mapping):
                continue  # the AWS part says what a service must look like
            commands = sources.get(RECORDS_KEY)
            if commands is not None and (not isinstance(commands, list) or not commands
                                         or not all(isinstance(c, str) and c.strip() for c in commands)):
                problems.append(f"services.{name}.{RECORDS_KEY}: must be a list of command names, "
                                "e.g. [rollback, deploy rollback]")
            if not sources:
                problems.append(f"services.{name}: says nowhere to look: give a pipeline, codedeploy, ecs "
                                f"or {RECORDS_KEY}")
        return problems + aws_validate(split_settings(settings)[0])

    return validate


# -- merging and choosing --------------------------------------------------------------------------

def from_request(record: RequestRecord, service: str, command: Command | None) -> Deployment:
    """An opsgate request as a deployment entry of its own."""
    correlation = record.result.get("correlation", {})
    final = record.state.final
    return Deployment(
        source="opsgate", service=service, id=record.id,
        revision=f"{record.command} {render.params_text(render.shown_params(command, record.params))}".strip(),
        status=render.state_text(record), phase=_REQUEST_PHASES[record.state], started=record.created_at,
        ended=record.updated_at if final else None, started_by=record.requester_name,
        console_url=correlation.get("console_url", ""), request_id=record.id,
        detail=render_detail(record.error or ""),
    )


def render_detail(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def merge(aws: Iterable[Deployment], requests: Iterable[tuple[str, RequestRecord]],
          commands: Mapping[str, Command]) -> list[Deployment]:
    """One list, newest first: AWS deployments (carrying the request that started them) and the
    requests that started nothing AWS reports. `requests` pairs each request with its service."""
    by_started: dict[str, RequestRecord] = {}
    for _, record in requests:
        for key in STARTED_KEYS:
            value = record.result.get("correlation", {}).get(key)
            if value:
                by_started.setdefault(value, record)
    merged, used = [], set()
    for deployment in aws:
        record = by_started.get(deployment.id)
        if record is not None:
            deployment = deployment.with_request(record.id, record.requester_name)
            used.add(record.id)
        merged.append(deployment)
    seen: set[tuple[str, str]] = set()
    for service, record in requests:
        if record.id not in used and (service, record.id) not in seen:
            seen.add((service, record.id))
            merged.append(from_request(record, service, commands.get(record.command)))
    return sorted(merged, key=_newest_first)


def _newest_first(deployment: Deployment) -> tuple[int, float, str]:
    started = deployment.started
    return (started is None, -started.timestamp() if started else 0.0, deployment.id)


def choose(view: str, deployments: Sequence[Deployment], last: int) -> list[Deployment]:
    """What a view shows, newest first (`deployments` are newest first already)."""
    if view == "history":
        return list(deployments[:last])
    flying = [d for d in deployments if d.phase.in_flight]
    if view == "in-flight":
        return flying
    latest: dict[tuple[str, str], Deployment] = {}
    for deployment in deployments:  # status: the newest finished one of each service and source
        if not deployment.phase.in_flight:
            latest.setdefault((deployment.service, deployment.source), deployment)
    return flying + sorted(latest.values(), key=_newest_first)


# -- showing ---------------------------------------------------------------------------------------

def deployment_line(deployment: Deployment, page_url: PageUrl) -> str:
    when = f"{deployment.started:%Y-%m-%d %H:%M} UTC" if deployment.started else "time unknown"
    took = ""
    if deployment.started and deployment.ended:
        took = f", took {format_duration_s((deployment.ended - deployment.started).total_seconds())}"
    who = f" · by {deployment.started_by}" if deployment.started_by else ""
    request = f" · `{deployment.request_id}`" if deployment.request_id and deployment.source != "opsgate" else ""
    line = (f"• {ICONS[deployment.phase]} {when} *{deployment.service}* {deployment.revision} — "
            f"{deployment.status}{took} · {deployment.source} {_short(deployment)}{who}{request}")
    if deployment.detail:
        line += f"\n    {deployment.detail}"
    links = [url for url in (deployment.console_url, page_url(deployment.request_id) if deployment.request_id else None)
             if url]
    if links:
        line += "\n    " + "  ·  ".join(links)
    return line


def _short(deployment: Deployment) -> str:
    if deployment.source == "opsgate":
        return f"`{deployment.id}`"
    return deployment.id if len(deployment.id) <= 14 else deployment.id[:8] + "…"


def deployments_text(view: str, shown: Sequence[Deployment], services: Sequence[str], environment: str,
                     total: int, page_url: PageUrl) -> str:
    names = ", ".join(services)
    if view == "in-flight":
        if not shown:
            return f"Deployments in flight: none ({names})"
        return "Deployments in flight:\n" + "\n".join(deployment_line(d, page_url) for d in shown)
    if not shown:
        return f"No deployments of {names} in {environment} were found."
    if view == "history":
        heading = f"Deployments of {names} in {environment}, newest first ({len(shown)} of {total} found):"
        return heading + "\n" + "\n".join(deployment_line(d, page_url) for d in shown)
    flying = [d for d in shown if d.phase.in_flight]
    done = [d for d in shown if not d.phase.in_flight]
    parts = [f"Deployments of {names} in {environment}:"]
    parts.append("In flight:\n" + "\n".join(deployment_line(d, page_url) for d in flying) if flying
                 else "In flight: none")
    if done:
        parts.append("Latest finished:\n" + "\n".join(deployment_line(d, page_url) for d in done))
    return "\n".join(parts)


# -- rolling back from the list ----------------------------------------------------------------------

def rollback_buttons(rollback: Command | None, shown: Sequence[Deployment], environment: str) -> tuple[Button, ...]:
    """Buttons for the rollback command. With a `revision` parameter: one per earlier successful
    revision ("Roll back web to web:1"); without: one per service that has a successful deployment.
    Only lines every required parameter of the rollback command can be filled for, with valid values."""
    if rollback is None:
        return ()
    succeeded = [d for d in shown if d.phase is Phase.SUCCEEDED and d.source != "opsgate"]
    by_revision = rollback.parameter("revision") is not None
    offers: list[tuple[str, dict[str, str]]] = []
    if by_revision:
        newest: dict[tuple[str, str], str] = {}
        for deployment in succeeded:
            current = newest.setdefault((deployment.service, deployment.source), deployment.revision)
            if deployment.revision != current:
                offers.append((f"Roll back {deployment.service} to {deployment.revision}",
                               {"service": deployment.service, "revision": deployment.revision}))
    else:
        for service in dict.fromkeys(d.service for d in succeeded):
            offers.append((f"Roll back {service} ({environment})", {"service": service}))
    buttons: dict[str, Button] = {}
    for label, values in offers:
        line = rollback_line(rollback, values, environment)
        if line is not None and line not in buttons:
            buttons[line] = Button(label, line)
    return tuple(buttons.values())[:MAX_BUTTONS]


def rollback_line(rollback: Command, values: Mapping[str, str], environment: str) -> str | None:
    """The rollback command's chat line with these values, or None when a required parameter has
    no value here or a value is not one the parameter accepts."""
    env = rollback.environment_parameter
    wanted = {**values, **({env.name: environment} if env else {})}
    params: dict[str, Any] = {}
    for parameter in rollback.parameters:
        if parameter.name in wanted:
            try:
                params[parameter.name] = parameter.convert(str(wanted[parameter.name]))
            except ValueError:
                return None
        elif parameter.required and parameter.default is None:
            return None
    return f"{rollback.name} {render.params_text(params)}".strip()


# -- the automation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeploymentList:
    """What one read of a `deployments` action found, before it is shown."""

    view: str
    services: list[str]
    environment: str
    last: int
    shown: list[Deployment]  # what the view shows, newest first
    total: int  # entries found, AWS's and opsgate's, before the view chose
    problems: list[str]  # sources that could not be read, each a sentence
    aws_ok: bool  # False when no AWS source answered


class DeploymentHistory:
    """The Automation for `deployments` actions: the AWS target for the AWS part, the store for
    opsgate's requests."""

    def __init__(self, aws: Automation, store: Store, catalog: Catalog, pages: PageLinks) -> None:
        self.aws, self.store, self.catalog, self.pages = aws, store, catalog, pages

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        aws_settings, records = split_settings(action.settings)
        settings = fill(aws_settings, template_values(params, ctx))
        commands = sorted({c for name in chosen_services(settings) for c in records.get(name, ())})
        calls = self.aws.plan(ActionSpec(action.kind, aws_settings), params, ctx)
        if commands:
            calls.append(PlannedCall("opsgate:requests", "opsgate",
                                     {"commands": ", ".join(commands), "environment": _environment(ctx)}))
        return calls

    def read(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> DeploymentList:
        """AWS's deployments (under the environment's role) merged with opsgate's requests, as the
        action's view chooses them. An AWS failure is a problem of the list, not an error: opsgate's
        records are still worth showing."""
        aws_settings, records = split_settings(action.settings)
        settings = fill(aws_settings, template_values(params, ctx))
        services = chosen_services(settings)  # an unknown service fails here, before any call
        view = str(settings.get("view", "status"))
        last = _last(settings)
        try:
            aws = self.aws.run(ActionSpec(action.kind, aws_settings), params, ctx)
        except AutomationError as err:
            aws = RunResult(ok=False, summary=err.message, output={"problems": [f"AWS: {err.message}"]})
        found = [Deployment.from_dict(d) for d in aws.output.get("deployments", [])]
        environment = _environment(ctx)
        merged = merge(found, self._requests(services, records, environment, last), self.catalog.commands)
        return DeploymentList(view, services, environment, last, choose(view, merged, last), len(merged),
                              list(aws.output.get("problems", [])), aws.ok)

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        found = self.read(action, params, ctx)
        view, shown, environment = found.view, found.shown, found.environment
        text = deployments_text(view, shown, found.services, environment, found.total, self.pages.request)
        if found.problems:
            text += "\n" + "\n".join(f"⚠️ {problem}" for problem in found.problems)
        page = None if view == "in-flight" else self.pages.deployments(
            found.services[0] if len(found.services) == 1 else None, environment,
            found.last if view == "history" else None)
        if page:
            text += f"\nOn the deployments page: {page}"
        buttons = () if view == "in-flight" else rollback_buttons(self._rollback(ctx), shown, environment)
        return RunResult(ok=found.aws_ok, summary=text, buttons=buttons,
                         output={"view": view, "services": found.services,
                                 "deployments": [d.to_dict() for d in shown], "problems": found.problems})

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError("deployment lists finish at once; there is nothing to follow")

    def _requests(self, services: Sequence[str], records: Mapping[str, Sequence[str]], environment: str,
                  last: int) -> list[tuple[str, RequestRecord]]:
        """Each listed command's recent requests here, paired with the service they are about:
        the one their `service` parameter names, else every service listing the command. Dry runs
        and requests refused before anyone was asked (nothing was going to happen) are left out."""
        listing: dict[str, list[str]] = {}
        for service in services:
            for command in records.get(service, ()):
                listing.setdefault(command, []).append(service)
        unknown = sorted(c for c in listing if c not in self.catalog.commands)
        if unknown:
            raise AutomationError(f"{RECORDS_KEY}: {', '.join(unknown)} is not a command of the catalog "
                                  f"(in this deployments action's services)")
        if not listing:
            return []
        paired = []
        with self.store.reading() as tx:
            for command, owners in listing.items():
                for record in tx.request_page(RequestQuery(command=command, environment=environment),
                                              limit=max(last, DEFAULT_LAST) * 2):
                    if record.dry_run or (record.state is State.DENIED and not record.approvals_required):
                        continue
                    named = record.params.get("service")
                    for service in owners:
                        if named in (None, "") or named == service:
                            paired.append((service, record))
        return paired

    def _rollback(self, ctx: RunContext) -> Command | None:
        """The rollback command of the command that asked for this list, if it declares one."""
        with self.store.transaction() as tx:
            record = tx.get_request(ctx.request_id)
        asking = self.catalog.commands.get(record.command) if record else None
        return self.catalog.commands.get(asking.rollback) if asking and asking.rollback else None


def _last(settings: Mapping[str, Any]) -> int:
    try:
        return int(str(settings.get("last", DEFAULT_LAST)), 10)
    except ValueError:
        raise AutomationError(f"last: must be a whole number (got {settings.get('last')!r})") from None


def _environment(ctx: RunContext) -> str:
    if ctx.environment is None:
        raise AutomationError("a deployments action runs in an environment; this command names none")
    return ctx.environment.name
