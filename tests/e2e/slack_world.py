"""A Slack world on 127.0.0.1: opsgate's real ASGI app under uvicorn, a local Slack Web API that
records every call, and helpers that send requests signed the way Slack signs them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from opsgate.adapters.chat.slack.testing import TEAM_ID, LocalSlackApi, signed_headers
from opsgate.config.settings import resolve_settings
from opsgate.domain.request import RequestRecord
from opsgate.ports import Clock
from opsgate.web.server_thread import ServerThread
from opsgate.wiring import SlackServer, build_slack_server

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OPS = "C0OPS"  # the ops channel: cache flush runs only here
DEV = "C0DEV"

CATALOG = """
version: 1
environments:
  - {name: dev, account: "111111111111", region: eu-west-1}
  - {name: prod, account: "222222222222", region: eu-west-1, protected: true}
people:
  - {id: alice, name: Alice Example, identities: {slack: U0ALICE}}
  - {id: bob, name: Bob Example, identities: {slack: U0BOB}}
  - {id: carol, name: Carol Example, identities: {slack: U0CAROL}}
roles:
  - {name: developer, members: [alice, bob], permissions: []}
  - {name: sre, members: [carol], permissions: [approve, lock]}
  - {name: oncall, members: [], permissions: [approve], groups: {slack: [S0ONCALL]}}
commands:
  - name: deploy status
    summary: Show what is deployed
    class: read
    roles: [developer, sre, oncall]
    parameters:
      - {name: service, type: enum, values: [web, api]}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "{service} in {env}: v42"}
  - name: restart
    summary: Restart a service
    class: mutate
    roles: [developer, sre]
    parameters:
      - {name: service, type: enum, values: [web, api]}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "Restarted {service} in {env}"}
  - name: rollback
    summary: Roll a service back
    class: mutate
    roles: [developer, sre]
    parameters:
      - {name: service, type: enum, values: [web, api]}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "Rolled {service} back in {env}"}
    environments:
      dev:
        link: {required: true, patterns: ["https://github\\\\.com/acme/[^/]+/pull/\\\\d+"]}
  - name: cache flush
    summary: Flush the cache
    class: destructive
    roles: [developer, sre]
    parameters:
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "Flushed the cache in {env}"}
    channels: [C0OPS]
    allow_dm: false
"""


class SlackWorld:
    """One opsgate serving Slack over HTTP, its database, and the local Slack API it talks to."""

    def __init__(self, tmp_path: Path, database_url: str, *, base_url: str = "https://ops.example.com",
                 socket_url: str | None = None, start_delivery: bool = True,
                 extra_env: dict[str, str] | None = None, catalog: str = CATALOG, clock: Clock | None = None) -> None:
        """`socket_url`: serve Slack in Socket Mode, connecting to this WebSocket URL."""
        self.api = LocalSlackApi().start()
        self.api.socket_url = socket_url
        config = tmp_path / "opsgate.yaml"
        config.write_text(catalog)
        env = {"OPSGATE_DATABASE_URL": database_url, "OPSGATE_SLACK_SIGNING_SECRET": SECRET,
               "OPSGATE_SLACK_BOT_TOKEN": "xoxb-test", "OPSGATE_SLACK_APP_TOKEN": "xapp-test",
               "OPSGATE_SLACK_API_URL": self.api.base_url, "OPSGATE_BASE_URL": base_url, **(extra_env or {})}
        self.settings = resolve_settings(env, config=config, cwd=tmp_path)
        self.served: SlackServer = build_slack_server(self.settings, socket_mode=socket_url is not None,
                                                     start_delivery=start_delivery, clock=clock)
        self.server = ServerThread(self.served.asgi).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=10)
        self._trigger = 0
        self.delivering = start_delivery

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.api.stop()

    # -- what Slack sends ---------------------------------------------------------------------

    def post_signed(self, body: bytes, *, content_type: str = "application/x-www-form-urlencoded",
                    timestamp: int | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {**signed_headers(SECRET, body, timestamp=timestamp, content_type=content_type), **(headers or {})}
        return self.http.post("/slack/events", content=body, headers=sent)

    def command_body(self, user: str, text: str, *, channel: str = OPS, channel_name: str = "ops",
                     trigger_id: str | None = None) -> bytes:
        self._trigger += 1
        trigger = trigger_id or f"{self._trigger}.1337.abcdef{self._trigger:04d}"
        return urlencode({
            "token": "legacy", "team_id": TEAM_ID, "team_domain": "acme", "channel_id": channel,
            "channel_name": channel_name, "user_id": user, "user_name": user.lower(), "command": "/ops",
            "text": text, "api_app_id": "A0OPSGATE", "response_url": self.api.response_url(trigger.replace(".", "-")),
            "trigger_id": trigger,
        }).encode()

    def command(self, user: str, text: str, **kwargs: Any) -> httpx.Response:
        return self.post_signed(self.command_body(user, text, **kwargs))

    def click_body(self, user: str, button: dict[str, Any], message_ts: str, *, channel: str = OPS,
                   action_ts: str | None = None) -> bytes:
        self._trigger += 1
        payload = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0OPSGATE", "trigger_id": f"{self._trigger}.1337.click",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel, "name": "ops"},
            "message": {"type": "message", "ts": message_ts, "text": "..."},
            "response_url": self.api.response_url(f"click-{self._trigger}"),
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b1",
                         "value": button["value"], "action_ts": action_ts or f"{time.time():.6f}"}],
        }
        return urlencode({"payload": json.dumps(payload)}).encode()

    def click(self, user: str, button: dict[str, Any], message_ts: str, **kwargs: Any) -> httpx.Response:
        return self.post_signed(self.click_body(user, button, message_ts, **kwargs))

    def submit(self, user: str, view: dict[str, Any], answer: str, *, view_id: str = "V0001") -> httpx.Response:
        submitted = {**view, "id": view_id, "state": {"values": {"answer": {"answer": {"type": "plain_text_input",
                                                                                         "value": answer}}}}}
        payload = {"type": "view_submission", "team": {"id": TEAM_ID}, "api_app_id": "A0OPSGATE",
                   "user": {"id": user, "username": user.lower(), "name": user.lower()},
                   "trigger_id": "99.1337.view", "view": submitted}
        return self.post_signed(urlencode({"payload": json.dumps(payload)}).encode())

    def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> httpx.Response:
        body = json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0OPSGATE", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event}).encode()
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post_signed(body, content_type="application/json", headers=headers)

    # -- what opsgate did ---------------------------------------------------------------------

    def settle(self) -> None:
        """Wait (bounded) until every line sent so far is answered and the outbox is empty."""
        def quiet() -> bool:
            with self.served.app.store.transaction() as tx:
                return self.served.runner.running == 0 and (not self.delivering or tx.outbox_pending("slack") == 0)
        self.api.wait_for(quiet)

    def responses(self, count: int = 1) -> list[dict[str, Any]]:
        """Bodies posted to response URLs (ephemeral answers), once `count` have arrived."""
        return [c.args for c in self.api.wait_for(lambda: len(self.api.calls_to("response_url")) >= count
                                                  and self.api.calls_to("response_url"))]

    def posts(self, count: int = 1) -> list[dict[str, Any]]:
        return [c.args for c in self.api.wait_for(lambda: len(self.api.calls_to("chat.postMessage")) >= count
                                                  and self.api.calls_to("chat.postMessage"))]

    def audit(self) -> list[dict[str, Any]]:
        return [record.fields() for record in self.served.app.store.iter_audit()]

    def request(self, request_id: str) -> RequestRecord | None:
        with self.served.app.store.transaction() as tx:
            return tx.get_request(request_id)


def buttons_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons by label."""
    return {element["text"]["text"]: element for block in message.get("blocks", []) if block["type"] == "actions"
            for element in block["elements"]}

