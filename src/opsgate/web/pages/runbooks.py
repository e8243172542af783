"""Runbooks from the catalog: the list, and one runbook's page (where chat links when the runbook
has no `url` of its own). The body is shown as the text it is written in, never as markup."""

from __future__ import annotations

from starlette.routing import Route

from opsgate.web.auth import Viewer
from opsgate.web.pages.formatting import link_target
from opsgate.web.pages.query import Params
from opsgate.web.pages.site import NotFound, Shown, Site, list_and_detail


def runbook_list(site: Site, viewer: Viewer, params: Params) -> Shown:
    tag = params.text("tag")
    runbooks = [r for r in site.catalog.runbooks if tag is None or tag in r.tags]
    return Shown("runbooks.html", {"title": "Runbooks", "runbooks": sorted(runbooks, key=lambda r: r.title.lower()),
                                   "tag": tag})


def runbook_detail(site: Site, viewer: Viewer, slug: str) -> Shown:
    for runbook in site.catalog.runbooks:
        if runbook.slug == slug:
            return Shown("runbook.html", {"title": runbook.title, "runbook": runbook, "url": link_target(runbook.url)})
    raise NotFound(slug)


def routes(site: Site) -> list[Route]:
    return list_and_detail(site, "/runbooks", lambda viewer, params: runbook_list(site, viewer, params),
                           lambda viewer, slug: runbook_detail(site, viewer, slug))
