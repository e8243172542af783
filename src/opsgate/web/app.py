"""The Starlette app of `opsgate serve`: /slack/events, /healthz, /readyz. Every request gets an
id (`X-Request-Id`, and `http_request` on its log lines: web/request_ids.py).

It is handed its parts (wiring builds them): the Slack endpoint, a readiness check and the
start/stop hooks of background work. It constructs no adapter itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from opsgate.web.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from opsgate.web.request_ids import RequestIds

READINESS_TIMEOUT_S = 5.0

# A request → response function, or an ASGI app (Starlette's Route takes either).
Endpoint = Callable[[Request], Awaitable[Response]] | Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class WebParts:
    readiness: Callable[[], str | None]  # None when ready, else what is wrong (runs in a thread)
    slack: Endpoint | None = None  # None in Socket Mode
    on_startup: Sequence[Callable[[], Awaitable[None]]] = ()
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()  # in this order
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    routes: list[Route] = field(default_factory=list)  # later: pages, intake, /metrics
    body_limits: dict[str, int | None] = field(default_factory=dict)  # path prefix -> its max_body_bytes (None: its own)


def create_app(parts: WebParts) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            problem = await asyncio.wait_for(asyncio.to_thread(parts.readiness), READINESS_TIMEOUT_S)
        except TimeoutError:
            problem = f"the readiness check took over {READINESS_TIMEOUT_S:.0f} s"
        if problem:
            return JSONResponse({"status": "not ready", "problem": problem}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for start in parts.on_startup:
            await start()
        try:
            yield
        finally:
            for stop in parts.on_shutdown:
                await stop()

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
    if parts.slack is not None:
        routes.append(Route("/slack/events", parts.slack, methods=["POST"]))
    return Starlette(routes=routes + list(parts.routes), lifespan=lifespan,
                     middleware=[Middleware(RequestIds),  # outermost: even a refused body has its id
                                 Middleware(BodyLimit, max_bytes=parts.max_body_bytes, path_limits=parts.body_limits)])
