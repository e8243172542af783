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

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
    def __init__(self, bolt: AsyncApp, guard: RequestGuard, audit: AuditRefusal, *,
                 budget: RefusalBudget | None = None) -> None:
        self.bolt_handler = AsyncSlackRequestHandler(bolt)
        self.guard = guard
        self.audit = audit
        self.budget = budget or RefusalBudget()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        refusal = self.guard.refusal(body, request.headers)
        if refusal is not None:
            await self._audit(refusal.reason, body, request)
            return JSONResponse({"ok": False, "error": refusal.reason}, status_code=refusal.status)
        response = await self.bolt_handler.handle(request)
        if "x-slack-retry-num" in request.headers:
            response.headers["X-Slack-No-Retry"] = "1"
        return response

    async def _audit(self, reason: str, body: bytes, request: Request) -> None:
        client = request.client.host if request.client else ""
        log.warning("refused a Slack request", extra={"reason": reason, "client": client})
        if not self.budget.take():
            return
        correlation = {"path": request.url.path, "client": client, **claimed_ids(body)}
        await asyncio.to_thread(self.audit, PLATFORM, reason, correlation)  # a database write
