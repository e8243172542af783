"""Requests: the list, and one request's page with its whole lifecycle."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from opsgate.domain.request import State
from opsgate.ports import RequestQuery
from opsgate.web.auth import Viewer
from opsgate.web.pages.access import may_see_request, reads_all
from opsgate.web.pages.formatting import link_target
from opsgate.web.pages.links import aws_links
from opsgate.web.pages.query import Params
from opsgate.web.pages.rows import CommandOf, audit_row, request_row
from opsgate.web.pages.site import NotFound, Shown, Site, list_and_detail

PAGE_ROWS = 50
TIMELINE_RECORDS = 500
_HIDDEN_RESULT_KEYS = ("summary", "correlation", "checkpoint")  # the checkpoint is opsgate's own bookkeeping


def request_list(site: Site, command_of: CommandOf, viewer: Viewer, params: Params) -> Shown:
    state = params.choice("state", [s.value for s in State])
    query = RequestQuery(
        states=(State(state),) if state else (),
        requester_id=params.text("person") if reads_all(viewer) else viewer.person.id,
        command=params.text("command"), environment=params.text("environment"))
    page = params.number("page", 1, 1, 10_000)
    with site.store.reading() as tx:
        records = tx.request_page(query, offset=(page - 1) * PAGE_ROWS, limit=PAGE_ROWS + 1)
    return Shown("requests.html", {
        "title": "Requests", "rows": [request_row(command_of, r) for r in records[:PAGE_ROWS]],
        "page": page, "more": len(records) > PAGE_ROWS, "filters": params.kept(), "states": [s.value for s in State],
        "commands": sorted(site.catalog.commands), "environments": list(site.catalog.environments),
        "everyone": reads_all(viewer), "query": params,
    })


def request_detail(site: Site, command_of: CommandOf, viewer: Viewer, request_id: str) -> Shown:
    with site.store.reading() as tx:
        record = tx.get_request(request_id)
        if record is None:
            raise NotFound(request_id)
        approvals = tx.approvals(request_id)
        if not may_see_request(viewer, record, approvals):
            raise NotFound(request_id)  # not "forbidden": whether it exists is not theirs to know either
        audit = list(reversed(tx.recent_audit(request_id=request_id, limit=TIMELINE_RECORDS)))
    environment = site.catalog.environments.get(record.environment) if record.environment else None
    result: dict[str, Any] = record.result or {}
    return Shown("request.html", {
        "title": f"Request {record.id}", "row": request_row(command_of, record), "record": record,
        "link": link_target(record.link), "approvals": approvals, "timeline": [audit_row(r) for r in audit],
        "summary": result.get("summary"), "correlation": result.get("correlation") or {},
        "output": {k: v for k, v in result.items() if k not in _HIDDEN_RESULT_KEYS},
        "aws_links": aws_links(record, environment), "environment": environment,
        "refresh_s": 10 if not record.state.final else 0,
    })


def routes(site: Site, command_of: CommandOf) -> list[Route]:
    return list_and_detail(site, "/requests", lambda viewer, params: request_list(site, command_of, viewer, params),
                           lambda viewer, id_: request_detail(site, command_of, viewer, id_))
