"""Socket Mode against a local WebSocket server: opsgate asks the (local) Web API for a connection
URL, connects, receives envelopes, acks each by its envelope id, and answers as over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from opsgate.adapters.chat.slack.testing import TEAM_ID, LocalSlackApi
from tests.e2e.slack_world import OPS, SlackWorld


class LocalSocketModeServer:
    """Sends the envelopes it is given to whoever connects; keeps every message it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._outgoing: asyncio.Queue[dict[str, Any]] | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)

    def start(self) -> LocalSocketModeServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=local"

    def send(self, envelope: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self._outgoing.put_nowait, envelope)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    async def _main(self) -> None:
        self._outgoing = asyncio.Queue()
        self._stop = self._loop.create_future()
        async with serve(self._session, "127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    async def _session(self, websocket: ServerConnection) -> None:
        self.connections += 1
        await websocket.send(json.dumps({"type": "hello", "num_connections": 1,
                                         "debug_info": {"host": "local"}, "connection_info": {"app_id": "A0OPSGATE"}}))

        async def outgoing() -> None:
            while True:
                await websocket.send(json.dumps(await self._outgoing.get()))

        sender = asyncio.ensure_future(outgoing())
        try:
            async for message in websocket:
                self.received.append(json.loads(message))
        finally:
            sender.cancel()


@pytest.fixture
def socket_server():
    server = LocalSocketModeServer().start()
    yield server
    server.stop()


def slash_command_envelope(api: LocalSlackApi, envelope_id: str, text: str) -> dict[str, Any]:
    return {"envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"team_id": TEAM_ID, "channel_id": OPS, "channel_name": "ops", "user_id": "U0ALICE",
                        "user_name": "alice", "command": "/ops", "text": text, "trigger_id": f"{envelope_id}.trigger",
                        "response_url": api.response_url(envelope_id), "api_app_id": "A0OPSGATE"}}


def test_socket_mode_acks_each_envelope_and_answers_through_slack(tmp_path, sqlite_url, socket_server):
    world = SlackWorld(tmp_path, sqlite_url, socket_url=socket_server.url)
    try:
        world.api.wait_for(lambda: socket_server.connections == 1)
        assert world.api.calls_to("apps.connections.open")[0].token == "xapp-test"  # the app-level token
        socket_server.send(slash_command_envelope(world.api, "env-1", "deploy status web prod"))
        socket_server.send(slash_command_envelope(world.api, "env-2", "help"))
        world.api.wait_for(lambda: len(socket_server.received) == 2)
        # each envelope is acked by its id; Socket Mode handles envelopes concurrently, so in any order
        assert sorted(m["envelope_id"] for m in socket_server.received) == ["env-1", "env-2"]
        world.settle()
        [result] = [c.args for c in world.api.calls_to("chat.postMessage")]
        assert "web in prod: v42" in result["text"]
        [help_answer] = world.responses(1)
        assert help_answer["response_type"] == "ephemeral" and "deploy status" in help_answer["text"]
        assert world.http.post("/slack/events", content=b"{}").status_code == 404  # no HTTP endpoint
    finally:
        world.close()


def test_a_redelivered_envelope_runs_once(tmp_path, sqlite_url, socket_server):
    world = SlackWorld(tmp_path, sqlite_url, socket_url=socket_server.url)
    try:
        world.api.wait_for(lambda: socket_server.connections == 1)
        envelope = slash_command_envelope(world.api, "env-1", "deploy status web prod")
        socket_server.send(envelope)
        socket_server.send({**envelope, "envelope_id": "env-1-again"})  # same command delivered twice
        world.api.wait_for(lambda: len(socket_server.received) == 2)
        world.settle()
        assert len(world.api.calls_to("chat.postMessage")) == 1
    finally:
        world.close()
