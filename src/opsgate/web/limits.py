"""Refuse request bodies over a limit with 413 before anything reads them into memory."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 64 * 1024  # Slack's payloads are a few KiB


class BodyLimit:
    """`path_limits`: path prefix -> the limit under it; None: the endpoints there read the body
    with a limit of their own (intake: SNS messages of 256 KiB, refusals they count)."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 path_limits: Mapping[str, int | None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for prefix, n in self.path_limits.items() if path.startswith(prefix)), self.max_bytes)
        if limit is None:
            await self.app(scope, receive, send)
            return
        if limit != self.max_bytes:
            await BodyLimit(self.app, limit)(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._too_large(send)
            else:  # the HTTP server passes on no more than the declared length: nothing to count
                await self.app(scope, receive, send)
            return
        received = 0
        too_large = False

        async def counted() -> Message:  # chunked bodies declare no length: count as they come
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = f'{{"ok":false,"error":"request body over {self.max_bytes} bytes"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
