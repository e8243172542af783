"""The overview: open incidents, firing alert groups, what waits for people, what runs, locks and
freezes; a link to the deployments (read from AWS on their own page, not on every reload here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from opsgate.core.deploy_reading import may_list
from opsgate.domain.catalog import Catalog, Environment
from opsgate.domain.freeze import FreezeWindow
from opsgate.domain.request import RequestRecord, State
from opsgate.ports import RequestQuery
from opsgate.web.auth import Viewer
from opsgate.web.pages.access import may_see_request
from opsgate.web.pages.rows import CommandOf, RequestRow, request_row
from opsgate.web.pages.site import Shown, Site

WAITING = (State.AWAITING_APPROVAL, State.AWAITING_CONFIRMATION)
ACTIVE = (State.APPROVED, State.RUNNING)
MAX_ROWS = 200
REFRESH_S = 15  # the overview reloads itself while open (light JS; nothing else changes)


@dataclass(frozen=True)
class Freeze:
    environment: str
    window: FreezeWindow
    until: datetime | None  # set while the freeze is on


def freezes(catalog: Catalog, now: datetime) -> list[Freeze]:
    """Every declared freeze window, the active ones first."""
    found = [Freeze(env.name, window, window.active_until(now)) for env in catalog.environments.values()
             for window in env.freezes]
    return sorted(found, key=lambda f: (f.until is None, f.environment, f.window.name))


def overview(site: Site, command_of: CommandOf, viewer: Viewer) -> Shown:
    now = site.now()
    with site.store.reading() as tx:
        waiting = tx.request_page(RequestQuery(states=WAITING), limit=MAX_ROWS)
        active = tx.request_page(RequestQuery(states=ACTIVE), limit=MAX_ROWS)
        locks = tx.active_locks(now)
        incidents = tx.incidents_list(open_only=True, limit=MAX_ROWS)
        groups = [g for g in tx.alert_groups_recent(open_only=True, limit=MAX_ROWS) if g.firing]
    def visible(records: list[RequestRecord]) -> list[RequestRow]:
        return [request_row(command_of, r) for r in records if may_see_request(viewer, r)]

    return Shown("overview.html", {
        "title": "Overview", "waiting": visible(waiting), "active": visible(active), "locks": locks,
        "freezes": [f for f in freezes(site.catalog, now) if f.until is not None], "refresh_s": REFRESH_S,
        "incidents": incidents, "groups": groups, "deployments": may_list(viewer.person, site.catalog),
    })


def environments(site: Site, viewer: Viewer) -> Shown:
    now = site.now()
    with site.store.reading() as tx:
        locks = {lock.environment: lock for lock in tx.active_locks(now)}
    envs: list[tuple[Environment, object, list[Freeze]]] = []
    all_freezes = freezes(site.catalog, now)
    for env in site.catalog.environments.values():
        envs.append((env, locks.get(env.name), [f for f in all_freezes if f.environment == env.name]))
    return Shown("environments.html", {"title": "Locks and freezes", "environments": envs})


def routes(site: Site, command_of: CommandOf) -> list[Route]:
    async def show_overview(request: Request) -> Response:
        return await site.page(request, lambda viewer: overview(site, command_of, viewer))

    async def show_environments(request: Request) -> Response:
        return await site.page(request, lambda viewer: environments(site, viewer))

    return [Route("/", show_overview, methods=["GET"]),
            Route("/environments", show_environments, methods=["GET"])]
