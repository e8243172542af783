"""Deployments: what `deploy status` and `deploy history` show in chat, as pages.

`/deployments` shows each service in each environment (or one, `?env=`): what is in flight and the
newest finished deployment from each source. `/deployments/<service>?env=&last=` is one service's
history, newest first. Both read through core.deploy_reading (AWS under the environment's role,
merged with opsgate's requests) and show only what the viewer may ask for in chat. An AWS source
that cannot be read is a message on the page; the rest is still shown.

`/deployments/d-…` is the page of a deployment summary chat posted (the link under it): what it
said, and the history of the services it belongs to. Everyone with a role sees those, as alerts.
"""

from __future__ import annotations

import logging
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from opsgate import log_context
from opsgate.core import deploy_reading
from opsgate.core.deploy_history import DEFAULT_LAST, DeploymentHistory, DeploymentList
from opsgate.domain.alert_json import from_json
from opsgate.domain.alerts import DeploymentEvent
from opsgate.domain.deployment import Deployment
from opsgate.domain.pages import deployments_path
from opsgate.domain.short_ids import short_id_pattern
from opsgate.errors import AutomationError
from opsgate.web.auth import Viewer
from opsgate.web.pages.formatting import link_target
from opsgate.web.pages.query import Params
from opsgate.web.pages.site import Forbidden, NotFound, Shown, Site

log = logging.getLogger("opsgate.web.deployments")

MAX_LAST = 50  # as the `deployments` action's `last`
READ_THREADS = 6  # services × environments are read side by side: the page waits for the slowest
REFRESH_S = 30  # while something is in flight
_RECORD_ID = re.compile(short_id_pattern("d"))


@dataclass(frozen=True)
class Board:
    """One service in one environment."""

    service: str
    environment: str
    history: str  # the link to its history
    found: DeploymentList | None = None  # None when it could not be read at all
    problem: str = ""  # why not

    @property
    def entries(self) -> list[Deployment]:
        return self.found.shown if self.found else []

    @property
    def flying(self) -> list[Deployment]:
        return [d for d in self.entries if d.phase.in_flight]

    @property
    def finished(self) -> list[Deployment]:
        return [d for d in self.entries if not d.phase.in_flight]

    @property
    def problems(self) -> list[str]:
        return ([self.problem] if self.problem else []) + (self.found.problems if self.found else [])


def read_board(site: Site, history: DeploymentHistory | None, viewer: Viewer, reader: deploy_reading.Reader,
               service: str, environment: str, view: str, last: int) -> Board:
    link = deployments_path(service, environment)
    if history is None:
        return Board(service, environment, link, problem="This process reads no AWS: the AWS sandbox runs in the "
                     "line process. Chat's `deploy status` shows them.")
    try:
        found = deploy_reading.read(history, reader, service, site.catalog.environments[environment], view, last,
                                    viewer.person.id)
    except AutomationError as err:  # the catalog's part of it is wrong: say what, as chat would
        return Board(service, environment, link, problem=err.message)
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("reading deployments failed", extra={"ref": ref, "service": service, "environment": environment})
        return Board(service, environment, link, problem=f"opsgate could not read these deployments (ref {ref}).")
    return Board(service, environment, link, found)


def status_page(site: Site, history: DeploymentHistory | None, viewer: Viewer, params: Params) -> Shown:
    catalog = site.catalog
    only = params.choice("env", catalog.environments)
    services = deploy_reading.deployment_services(catalog)
    now = site.now()
    cells = [(service, env, deploy_reading.reader_for(catalog, viewer.person, service, env, "status", now))
             for env in ([only] if only else catalog.environments) for service in services]
    readable = [(service, env, reader) for service, env, reader in cells if reader is not None]
    if services and not readable:
        raise Forbidden(refusal(site))

    def board(cell: tuple[str, str, deploy_reading.Reader]) -> Board:
        return read_board(site, history, viewer, cell[2], cell[0], cell[1], "status", DEFAULT_LAST)

    with ThreadPoolExecutor(max_workers=max(1, min(READ_THREADS, len(readable)))) as pool:
        boards = list(pool.map(log_context.carried(board), readable))
    return Shown("deployments.html", {
        "title": "Deployments", "boards": boards, "services": services, "env": only,
        "environments": list(catalog.environments), "hidden": len(cells) - len(readable),
        "refresh_s": REFRESH_S if any(b.flying for b in boards) else 0,
    })


def history_page(site: Site, history: DeploymentHistory | None, viewer: Viewer, service: str,
                 params: Params) -> Shown:
    catalog = site.catalog
    env = params.choice("env", catalog.environments)
    last = params.number("last", DEFAULT_LAST, 1, MAX_LAST)
    now = site.now()
    if env is None:  # where the viewer may look: the command's default environment first
        env = next((e for e in _default_first(site) if deploy_reading.reader_for(
            catalog, viewer.person, service, e, "history", now)), None)
        if env is None:
            raise Forbidden(refusal(site))
    reader = deploy_reading.reader_for(catalog, viewer.person, service, env, "history", now)
    if reader is None:
        raise Forbidden(refusal(site, f" for {service} in {env}"))
    board = read_board(site, history, viewer, reader, service, env, "history", last)
    return Shown("deployment_history.html", {
        "title": f"Deployments of {service} in {env}", "board": board, "service": service, "env": env, "last": last,
        "environments": list(catalog.environments), "max_last": MAX_LAST,
        "refresh_s": REFRESH_S if board.flying else 0, "action": deployments_path(service),
    })


def record_page(site: Site, record_id: str) -> Shown:
    with site.store.reading() as tx:
        record = tx.deployment_get(record_id)
    if record is None:
        raise NotFound(record_id)
    event = from_json(DeploymentEvent, record.body)
    services = deploy_reading.services_deploying(site.catalog, event.labels, event.environment)
    env = event.environment if event.environment in site.catalog.environments else None
    return Shown("deployment.html", {
        "title": f"Deployment {record.id}", "record": record, "event": event,
        "links": [(link.label, link.url) for link in event.links if link_target(link.url)],
        "histories": [(service, deployments_path(service, env)) for service in services],
        "status": deployments_path(environment=env), "refresh_s": 0 if record.finished_at else REFRESH_S,
    })


def refusal(site: Site, where: str = "") -> str:
    commands = [f"`{c.name}` ({', '.join(c.roles) or 'no role'})" for c in deploy_reading.listing_commands(site.catalog)]
    return (f"Deployments{where} are shown to the people who may ask for them in chat: {', '.join(commands)}, "
            "within their argument rules.")


def _default_first(site: Site) -> list[str]:
    """The environments, those the commands default to first (`env` with a default of prod: prod)."""
    defaults = [str(c.environment_parameter.default) for c in deploy_reading.listing_commands(site.catalog)
                if c.environment_parameter is not None and c.environment_parameter.default is not None]
    known = list(site.catalog.environments)
    return list(dict.fromkeys([d for d in defaults if d in known] + known))


def routes(site: Site, history: DeploymentHistory | None) -> list[Route]:
    async def show_status(request: Request) -> Response:
        params = Params(request.query_params)
        return await site.page(request, lambda viewer: status_page(site, history, viewer, params))

    async def show_one(request: Request) -> Response:
        name = request.path_params["name"]
        params = Params(request.query_params)

        def build(viewer: Viewer) -> Shown:
            if name in deploy_reading.deployment_services(site.catalog):
                return history_page(site, history, viewer, name, params)
            if _RECORD_ID.fullmatch(name):
                return record_page(site, name)
            raise NotFound(name)

        return await site.page(request, build)

    return [Route("/deployments", show_status, methods=["GET"]),
            Route("/deployments/{name}", show_one, methods=["GET"])]
