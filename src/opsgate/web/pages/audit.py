"""The audit log: filters, paging, the hash chain's state, export as JSON Lines or CSV.

Without the `audit` permission a person sees (and exports) only their own records, as in chat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from opsgate.core.audit_export import FORMATS, export_lines
from opsgate.domain.audit import SealedRecord, VerifyResult
from opsgate.ports import AuditQuery, Store
from opsgate.web.auth import Viewer
from opsgate.web.pages.access import audit_person, reads_all
from opsgate.web.pages.query import Params
from opsgate.web.pages.rows import audit_row
from opsgate.web.pages.site import Shown, Site, secure

PAGE_ROWS = 50
EXPORT_BATCH = 500
VERIFY_EVERY_S = 60  # verification reads the whole log: at most once a minute, whoever looks
# The outcomes the form offers; the filter takes any (other parts of opsgate audit their own).
OUTCOMES = ("succeeded", "failed", "denied", "expired", "cancelled", "approved", "awaiting_approval",
            "awaiting_confirmation", "running", "locked", "unlocked")


@dataclass(frozen=True)
class ChainState:
    result: VerifyResult
    checked_at: datetime


class ChainCheck:
    """The last verification of the hash chain, redone when older than VERIFY_EVERY_S."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._last: ChainState | None = None
        self._lock = threading.Lock()

    def current(self, now: datetime) -> ChainState:
        with self._lock:
            if self._last is None or (now - self._last.checked_at).total_seconds() >= VERIFY_EVERY_S:
                self._last = ChainState(self.store.verify_audit(), now)
            return self._last


def audit_query(viewer: Viewer, params: Params) -> AuditQuery:
    return AuditQuery(
        person=audit_person(viewer, params.text("person")), command=params.text("command"),
        environment=params.text("environment"), outcome=params.text("outcome"),
        event=params.text("event"), request_id=params.text("request"),
        since=params.time("since"), until=params.time("until"))


def audit_log(site: Site, chain: ChainCheck, viewer: Viewer, params: Params) -> Shown:
    query = audit_query(viewer, params)
    before = params.number("before", 0, 0, 2**62) or None
    after = params.number("after", 0, 0, 2**62) or None
    size = params.number("size", PAGE_ROWS, 1, 200)
    with site.store.reading() as tx:
        records = tx.audit_page(query, before_seq=before, after_seq=after, limit=size + 1)
    # One extra row says whether there is more in the direction we read.
    more = len(records) > size
    if after is not None:
        records = records[-size:] if more else records
        newer, older = more, True
    else:
        records = records[:size]
        newer, older = before is not None, more
    return Shown("audit.html", {
        "title": "Audit log", "rows": [audit_row(r) for r in records], "query": params,
        "newer_link": params.link("/audit", drop=("before",), after=records[0].seq) if newer and records else None,
        "older_link": params.link("/audit", drop=("after",), before=records[-1].seq) if older and records else None,
        "export_jsonl": params.link("/audit/export", drop=("before", "after", "size"), format="jsonl"),
        "export_csv": params.link("/audit/export", drop=("before", "after", "size"), format="csv"),
        "chain": chain.current(site.now()), "everyone": reads_all(viewer), "outcomes": OUTCOMES,
        "people": sorted(site.catalog.people.values(), key=lambda p: p.id),
        "commands": sorted(site.catalog.commands), "environments": list(site.catalog.environments),
    })


def matching(store: Store, query: AuditQuery) -> Iterator[SealedRecord]:
    """Every matching record, oldest first, read in batches (each its own short read)."""
    last = 0
    while True:
        with store.reading() as tx:
            batch = tx.audit_page(query, after_seq=last, limit=EXPORT_BATCH)[::-1]
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].seq


def routes(site: Site, chain: ChainCheck) -> list[Route]:
    async def show(request: Request) -> Response:
        params = Params(request.query_params)
        return await site.page(request, lambda viewer: audit_log(site, chain, viewer, params))

    async def export(request: Request) -> Response:
        params = Params(request.query_params)

        def choose(viewer: Viewer) -> tuple[str, AuditQuery]:
            return params.choice("format", FORMATS) or "jsonl", audit_query(viewer, params)

        chosen = await site.run(request, choose)
        if isinstance(chosen, Response):
            return chosen  # refused, or a bad filter: the page says why
        fmt, query = chosen[1]
        media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
        response = StreamingResponse(export_lines(matching(site.store, query), fmt), media_type=media)
        response.headers["Content-Disposition"] = f'attachment; filename="opsgate-audit.{fmt}"'
        return secure(response)

    return [Route("/audit", show, methods=["GET"]), Route("/audit/export", export, methods=["GET"])]
