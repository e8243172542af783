"""The ASGI app's own parts over real HTTP (uvicorn on 127.0.0.1): health, readiness, body limits,
start and stop hooks."""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from opsgate.web.app import WebParts, create_app
from opsgate.web.server_thread import ServerThread


async def echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"length": len(await request.body())})


@pytest.fixture
def serve():
    servers: list[ServerThread] = []

    def start(parts: WebParts) -> httpx.Client:
        server = ServerThread(create_app(parts)).start()
        servers.append(server)
        return httpx.Client(base_url=server.url, timeout=10)

    yield start
    for server in servers:
        server.stop()


def test_healthz_answers_while_the_process_runs(serve):
    client = serve(WebParts(readiness=lambda: "the database does not answer"))
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_says_why_it_is_not_ready(serve):
    client = serve(WebParts(readiness=lambda: "the database schema is at 0001, this opsgate needs 0002"))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "problem": "the database schema is at 0001, this opsgate needs 0002"}


def test_readyz_is_ready_when_the_check_finds_nothing(serve):
    assert serve(WebParts(readiness=lambda: None)).get("/readyz").status_code == 200


def test_a_hanging_readiness_check_is_not_ready(serve, monkeypatch):
    monkeypatch.setattr("opsgate.web.app.READINESS_TIMEOUT_S", 0.2)
    client = serve(WebParts(readiness=lambda: time.sleep(2)))
    answer = client.get("/readyz")
    assert answer.status_code == 503 and "took over" in answer.json()["problem"]


def test_bodies_up_to_the_limit_pass_and_larger_ones_get_413(serve):
    client = serve(WebParts(readiness=lambda: None, slack=echo_length, max_body_bytes=2048))
    assert client.post("/slack/events", content=b"x" * 2048).json() == {"length": 2048}
    too_big = client.post("/slack/events", content=b"x" * 2049)
    assert too_big.status_code == 413 and too_big.json()["error"] == "request body over 2048 bytes"


def test_a_chunked_body_over_the_limit_gets_413(serve):
    client = serve(WebParts(readiness=lambda: None, slack=echo_length, max_body_bytes=2048))

    def chunks():
        yield b"x" * 2000
        yield b"x" * 2000

    assert client.post("/slack/events", content=chunks()).status_code == 413


def test_a_small_chunked_body_passes(serve):
    client = serve(WebParts(readiness=lambda: None, slack=echo_length, max_body_bytes=2048))
    assert client.post("/slack/events", content=iter([b"ab", b"cd"])).json() == {"length": 4}


def test_without_a_slack_endpoint_there_is_no_slack_route(serve):
    assert serve(WebParts(readiness=lambda: None)).post("/slack/events", content=b"{}").status_code == 404


def test_start_and_stop_hooks_run_in_order():
    events: list[str] = []

    async def started() -> None:
        events.append("start")

    async def first_stop() -> None:
        events.append("stop 1")

    async def second_stop() -> None:
        events.append("stop 2")

    server = ServerThread(create_app(WebParts(readiness=lambda: None, on_startup=[started],
                                              on_shutdown=[first_stop, second_stop]))).start()
    assert events == ["start"]
    server.stop()
    assert events == ["start", "stop 1", "stop 2"]
