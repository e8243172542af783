"""An id for every HTTP request: on each log line written while it is handled (`http_request`),
and in the `X-Request-Id` response header, so a person can quote it and an operator find the lines.

An `X-Request-Id` the client (a load balancer, a proxy) sent is kept when it is a plain token;
anything else is replaced by a fresh one, so nothing a client sends reaches the logs unchecked.
"""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsgate import log_context

HEADER = "X-Request-Id"
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id(offered: str | None) -> str:
    if offered and _PLAIN_TOKEN.fullmatch(offered):
        return offered
    return "h-" + secrets.token_hex(8)


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if HEADER not in headers:
                    headers.append(HEADER, rid)
            await send(message)

        with log_context.bound(http_request=rid):
            await self.app(scope, receive, send_with_id)
