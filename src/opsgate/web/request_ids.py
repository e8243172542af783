"""An id for every HTTP request: on each log line written while it is handled (`http_request`),
and in the `X-Request-Id` response header, so a person can quote it and an operator find the lines.

An `X-Request-Id` the client (a load balancer, a proxy) sent is kept when it is a plain token;
anything else is replaced by a fresh one, so nothing a client sends reaches the logs unchecked.

A fresh id is 64 bits from `random`, not `secrets`: it names a request, it grants nothing, and
`os.urandom` cost more than a third of the ack's own time on this path (docs/benchmarks.md,
"Slack ack"). `random` is reseeded in every forked process, so workers do not repeat ids.
"""

from __future__ import annotations

import random
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsgate import log_context

HEADER = "X-Request-Id"
_RAW_HEADER = HEADER.lower().encode()
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id(offered: str | None) -> str:
    if offered and _PLAIN_TOKEN.fullmatch(offered):
        return offered
    return f"h-{random.getrandbits(64):016x}"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((value for name, value in scope["headers"] if name == _RAW_HEADER), None)
        rid = request_id(offered.decode("latin-1") if offered is not None else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == _RAW_HEADER for name, _ in headers):
                    message["headers"] = [*headers, (_RAW_HEADER, rid.encode())]
            await send(message)

        with log_context.bound(http_request=rid):
            await self.app(scope, receive, send_with_id)
