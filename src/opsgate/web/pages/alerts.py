"""Alert groups (one chat message each) with their alerts and acknowledgements, and silences.
Every person with a role sees them: alerts are posted to the team's channels anyway."""

from __future__ import annotations

from starlette.routing import Route

from opsgate.web.auth import Viewer
from opsgate.web.pages.query import Params
from opsgate.web.pages.site import NotFound, Shown, Site, list_and_detail

LIST_ROWS = 100


def group_list(site: Site, viewer: Viewer, params: Params) -> Shown:
    show_all = params.choice("show", ("open", "all")) == "all"
    now = site.now()
    with site.store.reading() as tx:
        groups = tx.alert_groups_recent(open_only=not show_all, limit=LIST_ROWS)
        silences = tx.silences_active(now)
    return Shown("alerts.html", {"title": "Alert groups", "groups": groups, "silences": silences,
                                 "show_all": show_all, "refresh_s": 30})


def group_detail(site: Site, viewer: Viewer, group_id: str) -> Shown:
    with site.store.reading() as tx:
        group = tx.alert_group_get(group_id)
    if group is None:
        raise NotFound(group_id)
    alerts = sorted(group.state.alerts.values(), key=lambda a: (a.status.value != "firing", -a.severity.rank, a.title))
    return Shown("alert_group.html", {"title": f"Alert group {group.id}", "group": group, "alerts": alerts,
                                      "refresh_s": 0 if group.ended_at else 30})


def routes(site: Site) -> list[Route]:
    return list_and_detail(site, "/alerts", lambda viewer, params: group_list(site, viewer, params),
                           lambda viewer, id_: group_detail(site, viewer, id_))
