"""Incidents: the open and recent ones, and one incident's page with its roles and timeline.
Every person with a role sees them (as they see locks): an incident is the whole team's news."""

from __future__ import annotations

from starlette.routing import Route

from opsgate.web.auth import Viewer
from opsgate.web.pages.formatting import link_target
from opsgate.web.pages.query import Params
from opsgate.web.pages.site import NotFound, Shown, Site, list_and_detail

LIST_ROWS = 100


def incident_list(site: Site, viewer: Viewer, params: Params) -> Shown:
    show_all = params.choice("show", ("open", "all")) == "all"
    with site.store.reading() as tx:
        incidents = tx.incidents_list(open_only=not show_all, limit=LIST_ROWS)
    return Shown("incidents.html", {"title": "Incidents", "incidents": incidents, "show_all": show_all})


def incident_detail(site: Site, viewer: Viewer, incident_id: str) -> Shown:
    with site.store.reading() as tx:
        incident = tx.incident_get(incident_id)
        if incident is None:
            raise NotFound(incident_id)
        roles = tx.incident_roles(incident_id)
        timeline = tx.incident_timeline(incident_id)
    return Shown("incident.html", {"title": f"Incident {incident.id}", "incident": incident, "roles": roles,
                                   "timeline": timeline, "ticket": link_target(incident.ticket_url),
                                   "refresh_s": 0 if incident.resolved_at else 15})


def routes(site: Site) -> list[Route]:
    return list_and_detail(site, "/incidents", lambda viewer, params: incident_list(site, viewer, params),
                           lambda viewer, id_: incident_detail(site, viewer, id_))
