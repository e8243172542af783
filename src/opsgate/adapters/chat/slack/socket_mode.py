"""Socket Mode: the same Bolt app over a WebSocket that opsgate opens to Slack (an app-level
`xapp-` token, no public endpoint, no request signing — the connection itself is authenticated)."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


class SocketModeConnection:
    def __init__(self, bolt: AsyncApp, app_token: str, client: AsyncWebClient) -> None:
        # apps.connections.open goes through `client`, so its base_url also points tests at a
        # local Web API, which hands out the URL of a local WebSocket server.
        self._bolt, self._app_token, self._client = bolt, app_token, client
        self._handler: AsyncSocketModeHandler | None = None

    async def connect(self) -> None:
        # Built here: its aiohttp session needs the running event loop.
        self._handler = AsyncSocketModeHandler(self._bolt, self._app_token, web_client=self._client)
        await self._handler.connect_async()

    async def close(self) -> None:
        if self._handler is not None:
            await self._handler.close_async()
