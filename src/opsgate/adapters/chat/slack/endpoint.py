"""POST /slack/events: verify the request, then hand it to Bolt; refusals are answered and audited.

Bolt verifies the signature again (defence in depth, a few microseconds). Slack's retries
(X-Slack-Retry-Num) are answered like first deliveries — the dispatcher drops a key it has seen —
and told not to retry further.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from opsgate.adapters.chat.slack.inbound import PLATFORM
from opsgate.adapters.chat.slack.verify import RequestGuard, claimed_ids

log = logging.getLogger("opsgate.slack.endpoint")

AuditRefusal = Callable[[str, str, dict[str, str]], None]  # (platform, reason, correlation)


class RefusalBudget:
    """At most `per_minute` refusals are audited each minute; the rest are counted in the log.
    A flood of forged requests must not turn into a flood of audit writes."""

    def __init__(self, per_minute: int = 60, now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._now = now
        self._window = -1
        self._used = 0

    def take(self) -> bool:
        window = int(self._now() // 60)
        if window != self._window:
            if self._used > self.per_minute:
                log.warning("refused Slack requests not audited (budget spent)",
                            extra={"count": self._used - self.per_minute})
            self._window, self._used = window, 0
        self._used += 1
        return self._used <= self.per_minute


class SlackEndpoint:
    """An ASGI app: Starlette's route calls it as it is, without building a `Request` and a
    `Response` around it, and it hands Bolt an `AsyncBoltRequest` itself. Bolt's Starlette adapter
    and Starlette's request and response objects were about a tenth of the serving process's
    time per ack (docs/benchmarks.md, "Slack ack"); the BodyLimit middleware in front has capped
    the body already."""

    def __init__(self, bolt: AsyncApp, guard: RequestGuard, audit: AuditRefusal, *,
                 budget: RefusalBudget | None = None) -> None:
        self.bolt = bolt
        self.guard = guard
        self.audit = audit
        self.budget = budget or RefusalBudget()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        refusal = self.guard.refusal(body, headers)
        if refusal is not None:
            await self._audit(refusal.reason, body, scope)
            await JSONResponse({"ok": False, "error": refusal.reason}, status_code=refusal.status)(scope, receive, send)
            return
        answer = await self.bolt.async_dispatch(AsyncBoltRequest(
            body=body.decode("utf-8"), query=scope.get("query_string", b"").decode("latin-1"), headers=headers))
        content = (answer.body or "").encode("utf-8")
        raw = [(name.encode("latin-1"), str(value).encode("latin-1"))
               for name, values in answer.headers.items() for value in values if name.lower() != "content-length"]
        raw.append((b"content-length", str(len(content)).encode()))
        if "x-slack-retry-num" in headers:
            raw.append((b"x-slack-no-retry", b"1"))
        await send({"type": "http.response.start", "status": answer.status, "headers": raw})
        await send({"type": "http.response.body", "body": content})

    async def _audit(self, reason: str, body: bytes, scope: Scope) -> None:
        client = scope["client"][0] if scope.get("client") else ""
        log.warning("refused a Slack request", extra={"reason": reason, "client": client})
        if not self.budget.take():
            return
        correlation = {"path": scope.get("path", ""), "client": client, **claimed_ids(body)}
        await asyncio.to_thread(self.audit, PLATFORM, reason, correlation)  # a database write


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away, or BodyLimit cut the body off (its 413)
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
