"""GET /metrics: the process's counters (opsgate.metrics) and the numbers read from the database
(opsgate.metrics_db), in Prometheus' text format; optionally behind a bearer token.

With several processes (`serve --workers N`, or lines run in the line process) set
PROMETHEUS_MULTIPROC_DIR to an empty directory before starting: every process then writes its
counters there and /metrics adds them all up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from opsgate import metrics

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Exposed:
    """Everything /metrics shows, collected fresh on each scrape."""

    def __init__(self, collectors: Iterable[Any]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Any]:
        if os.environ.get(MULTIPROCESS_ENV):
            own = CollectorRegistry()
            MultiProcessCollector(own)  # every process's counters, added up
            yield from own.collect()
        else:
            yield from metrics.REGISTRY.collect()
        for collector in self.collectors:
            yield from collector.collect()


def metrics_route(collectors: Iterable[Any] = (), *, token: str | None = None) -> Route:
    exposed = _Exposed(collectors)

    async def endpoint(request: Request) -> Response:
        if token is not None:
            offered = request.headers.get("authorization", "")
            if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse("/metrics needs the bearer token (OPSGATE_METRICS_TOKEN)\n", status_code=401,
                                         headers={"WWW-Authenticate": 'Bearer realm="opsgate metrics"'})
        body = await asyncio.to_thread(generate_latest, exposed)  # the database collector reads in a thread
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", endpoint, methods=["GET"])
