"""`opsgate serve` and `opsgate slack-manifest` as a person runs them: real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import httpx
import pytest
import yaml

from opsgate.adapters.chat.slack.testing import LocalSlackApi, signed_headers
from tests.e2e.slack_world import CATALOG, SECRET


def opsgate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opsgate.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_manifest_names_the_command_scopes_and_urls():
    done = opsgate("slack-manifest", "--url", "https://ops.example.com")
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load(done.stdout)
    [command] = manifest["features"]["slash_commands"]
    assert command == {"command": "/ops", "description": "Run an opsgate command (try: help)",
                       "usage_hint": "help | deploy service=web env=prod | approve r-…", "should_escape": True,
                       "url": "https://ops.example.com/slack/events"}
    settings = manifest["settings"]
    assert settings["interactivity"]["request_url"] == settings["event_subscriptions"]["request_url"] == command["url"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "reaction_added"}
    assert {"commands", "chat:write", "usergroups:read", "app_mentions:read", "im:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])
    assert settings["socket_mode_enabled"] is False


def test_a_socket_mode_manifest_has_no_urls_and_json_is_offered():
    done = opsgate("slack-manifest", "--socket-mode", "--format", "json")
    manifest = json.loads(done.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True and "https://" not in done.stdout


def test_an_http_manifest_without_a_url_says_what_to_give():
    done = opsgate("slack-manifest", env={"OPSGATE_BASE_URL": ""})
    assert done.returncode == 2 and "--url https://" in done.stderr
    assert opsgate("slack-manifest", "--url", "http://ops.example.com").returncode == 2


def test_serve_without_a_bot_token_says_which_variable_is_missing(tmp_path):
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    done = opsgate("serve", "--config", str(tmp_path / "opsgate.yaml"),
                   env={"OPSGATE_SLACK_BOT_TOKEN": "", "OPSGATE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "OPSGATE_SLACK_BOT_TOKEN (the bot token, xoxb-...) is not set" in done.stderr


@contextmanager
def serving(tmp_path, api, *flags: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, httpx.Client]]:
    """`opsgate serve` in its own process (with `env` added to its environment), ready; killed
    at the end if it is still running."""
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    port = free_port()
    environ = {**os.environ, "OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_SLACK_SIGNING_SECRET": SECRET,
               "OPSGATE_SLACK_BOT_TOKEN": "xoxb-test", "OPSGATE_SLACK_API_URL": api.base_url,
               "OPSGATE_PORT": str(port), "OPSGATE_LOG_LEVEL": "warning", **(env or {})}
    environ.pop("OPSGATE_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "opsgate.cli", "serve", "--config", str(tmp_path / "opsgate.yaml"),
                                *flags], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read() if process.poll() else "slow"
            time.sleep(0.05)
        yield process, client
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def slash(client: httpx.Client, api: LocalSlackApi, text: str, trigger_id: str) -> httpx.Response:
    body = urlencode({"team_id": "T1", "channel_id": "C0OPS", "channel_name": "ops", "user_id": "U0ALICE",
                      "user_name": "alice", "command": "/ops", "text": text,
                      "trigger_id": trigger_id, "response_url": api.response_url(trigger_id)}).encode()
    return client.post("/slack/events", content=body, headers=signed_headers(SECRET, body))


@pytest.mark.parametrize("flag", ["--line-process", "--no-line-process"])
def test_serve_answers_slack_and_health_then_stops_cleanly_on_sigterm(tmp_path, api, flag):
    with serving(tmp_path, api, flag) as (process, client):
        assert slash(client, api, "deploy status web prod", "1.2.3").status_code == 200
        [posted] = api.wait_for(lambda: api.calls_to("chat.postMessage"))
        assert "web in prod: v42" in posted.args["text"]
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit by SIGTERM).
        assert process.wait(30) in (0, -signal.SIGTERM)
    assert SECRET not in process.stderr.read()


def test_several_workers_answer_keep_alive_requests_without_the_delayed_ack_wait(tmp_path, api):
    # With uvicorn's own socket each keep-alive request after the first waited ~40 ms (Nagle's
    # algorithm against the client's delayed ACK): serve binds a TCP socket with TCP_NODELAY.
    with serving(tmp_path, api, "--workers", "2") as (process, client):
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            timings.append(time.perf_counter() - started)
        assert min(timings[1:]) < 0.030, timings
