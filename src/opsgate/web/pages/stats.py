"""The value numbers (`/ops stats`) as a page with charts: command use, refusals, time to approve,
incidents, events against messages. The same numbers and the same permission (`stats`) as chat.

Charts are SVG drawn on the server (bar widths as attributes, no inline styles, no scripts), so
the strict Content-Security-Policy holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from opsgate.core.stats import Spread, read_stats, stats_period_s
from opsgate.domain.durations import format_duration_s
from opsgate.errors import UserError
from opsgate.web.auth import Viewer
from opsgate.web.pages.query import Params, QueryProblem
from opsgate.web.pages.site import Forbidden, Shown, Site

DEFAULT_PERIOD = "30d"
BARS = 10  # rows in a bar chart; the rest are summed up in words


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as people read it
    width: float  # 0..100: share of the chart's longest bar


def bars(items: list[tuple[str, float]], shown=lambda v: f"{v:,.0f}") -> list[Bar]:
    longest = max((value for _, value in items), default=0) or 1
    return [Bar(label, value, shown(value), round(100 * value / longest, 1)) for label, value in items[:BARS]]


def spread_bars(spreads: list[tuple[str, Spread]]) -> list[Bar]:
    """p50 and p90 of each kind of wait, side by side on one scale (waits with none are left out)."""
    items = [(f"{name} {which}", value) for name, spread in spreads if spread.count
             for which, value in (("p50", spread.p50_s), ("p90", spread.p90_s)) if value is not None]
    return bars(items, lambda s: format_duration_s(int(round(s))) if s >= 1 else f"{s:.1f}s")


def stats_page(site: Site, viewer: Viewer, params: Params) -> Shown:
    if "stats" not in viewer.person.permissions:
        raise Forbidden("The numbers need the `stats` permission (the same as `/ops stats` in chat).")
    period = params.text("period") or DEFAULT_PERIOD
    try:
        period_s = stats_period_s(period)
    except UserError as err:
        raise QueryProblem(str(err)) from None
    until = site.clock.now() + timedelta(microseconds=1)
    with site.store.reading() as tx:
        numbers = read_stats(tx, until - timedelta(seconds=period_s), until)
    waits = spread_bars([("approve", numbers.time_to_approve), ("ack incident", numbers.time_to_acknowledge),
                         ("mitigate", numbers.time_to_mitigate), ("resolve", numbers.time_to_resolve),
                         ("ack alert", numbers.alert_time_to_acknowledge)])
    return Shown("stats.html", {
        "title": "Numbers", "period": period, "stats": numbers,
        "by_command": bars([(c, n) for c, n in numbers.by_command]),
        "by_person": bars([(p, n) for p, n in numbers.by_person]),
        "refusals": bars([(r, n) for r, n in numbers.refusals_by_rule]),
        "waits": waits,
        "noise": bars([("events received", numbers.events_received), ("messages posted", numbers.messages_posted)]),
    })


def routes(site: Site) -> list[Route]:
    async def show(request: Request) -> Response:
        params = Params(request.query_params)
        return await site.page(request, lambda viewer: stats_page(site, viewer, params))

    return [Route("/stats", show, methods=["GET"])]
