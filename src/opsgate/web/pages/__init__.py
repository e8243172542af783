"""The pages of `opsgate serve`: server-rendered views of the system of record.

`page_routes` gathers every page module's routes and the navigation. A new page is a module with
a `routes(site, ...)` function and a NavItem here; its reads go through the store's read-only
transactions (`Store.reading`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from opsgate.core.deploy_history import DeploymentHistory
from opsgate.core.deploy_reading import may_list
from opsgate.domain.catalog import Catalog
from opsgate.ports import Clock, Store
from opsgate.web.auth import SignIn
from opsgate.web.pages import alerts, audit, deployments, incidents, overview, requests, runbooks, signin, stats
from opsgate.web.pages.rows import CommandOf
from opsgate.web.pages.site import NavItem, Site


def navigation(catalog: Catalog) -> list[NavItem]:
    return [
        NavItem("Overview", "/"),
        NavItem("Incidents", "/incidents"),
        NavItem("Alerts", "/alerts"),
        NavItem("Requests", "/requests"),
        NavItem("Deployments", "/deployments", lambda viewer: may_list(viewer.person, catalog)),
        NavItem("Audit log", "/audit"),
        NavItem("Locks and freezes", "/environments"),
        NavItem("Runbooks", "/runbooks"),
        NavItem("Numbers", "/stats"),
    ]


def page_routes(catalog: Catalog, store: Store, clock: Clock, sign_in: SignIn, command_of: CommandOf,
                deployment_history: DeploymentHistory | None = None) -> list[BaseRoute]:
    """`deployment_history`: how the deployments page reads (None: it reads no AWS)."""
    site = Site(catalog, store, clock, sign_in)
    site.nav = navigation(catalog)
    return [
        *overview.routes(site, command_of),
        *requests.routes(site, command_of),
        *deployments.routes(site, deployment_history),
        *incidents.routes(site),
        *alerts.routes(site),
        *runbooks.routes(site),
        *stats.routes(site),
        *audit.routes(site, audit.ChainCheck(store)),
        *signin.routes(site),
        Mount("/static", StaticFiles(packages=[("opsgate.web.pages", "static")]), name="static"),
        Route("/favicon.ico", _no_icon, methods=["GET"]),
    ]


async def _no_icon(_: Request) -> Response:
    return Response(status_code=204)


__all__ = ["navigation", "page_routes"]
