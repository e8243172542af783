"""opsgate's pages on 127.0.0.1 over a real store: an App built by the composition root with a
fake clock and a recording chat, served by uvicorn, and an ALB key server for sign-in tests."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from jwt.algorithms import ECAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from opsgate.config.settings import resolve_settings
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply
from opsgate.testing import FakeClock, RecordingChat
from opsgate.web.server_thread import ServerThread
from opsgate.wiring import App, build, build_pages_server

TOKEN = "local-web-token-0123456789"
ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/ops/0123456789abcdef"

CATALOG = """
version: 1
environments:
  - {name: dev, account: "111111111111", region: eu-west-1, role_arn: "arn:aws:iam::111111111111:role/opsgate-dev"}
  - name: staging
    account: "333333333333"
    region: eu-west-1
    freezes:
      - {name: monday-morning, weekly: {days: [mon], from: "08:00", to: "12:00"}, reason: Planning meeting}
  - {name: prod, account: "222222222222", region: eu-west-1, protected: true, role_arn: "arn:aws:iam::222222222222:role/opsgate-prod"}
people:
  - {id: alice, name: Alice Example, identities: {console: alice, oidc: "sub-alice"}}
  - {id: bob, name: Bob Example, identities: {console: bob, oidc: "sub-bob"}}
  - {id: carol, name: Carol Example, identities: {console: carol, oidc: "sub-carol"}}
  - {id: erin, name: Erin Example, identities: {console: erin, oidc: "sub-erin"}}
  - {id: nora, name: Nora Norole, identities: {console: nora, oidc: "sub-nora"}}
roles:
  - {name: developer, members: [alice, bob]}
  - {name: sre, members: [carol], permissions: [approve, lock]}
  - {name: auditor, members: [erin], permissions: [audit, stats]}
commands:
  - name: restart
    summary: Restart a service
    class: mutate
    roles: [developer, sre]
    parameters:
      - {name: service, type: string, max_length: 100}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "Restarted {service} in {env}"}
  - name: secret rotate
    summary: Rotate a secret
    class: mutate
    roles: [developer, sre]
    parameters:
      - {name: name, type: string}
      - {name: value, type: string, secret: true}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "Rotated {name}"}
"""

RUNBOOK = """---
title: Web returns 5xx errors
tags: [5xx, errors]
services: [web]
owner: team-platform
commands:
  - restart service=web env=dev
---
# Web returns 5xx errors

Check the load balancer first. <script>alert(1)</script> is text here.
"""


class PagesWorld:
    def __init__(self, tmp_path: Path, database_url: str, *, env: dict[str, str] | None = None,
                 config: Path | None = None) -> None:
        """`config`: another catalog than CATALOG (the example's, for the deployments page)."""
        if config is None:
            config = tmp_path / "opsgate.yaml"
            config.write_text(CATALOG + "runbooks: {path: ./runbooks}\n")
            (tmp_path / "runbooks").mkdir()
            (tmp_path / "runbooks" / "web-5xx.md").write_text(RUNBOOK)
        self.clock = FakeClock()  # Monday 2026-03-02 09:00 UTC: staging's monday-morning freeze is on
        self.chat = RecordingChat()
        settings = resolve_settings({"OPSGATE_DATABASE_URL": database_url, **(env or {})}, config=config, cwd=tmp_path)
        self.app: App = build(settings, self.chat, clock=self.clock)
        self.server = ServerThread(build_pages_server(self.app, self.clock)).start()
        self.url = self.server.url
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.app.close()

    def say(self, person: str, text: str) -> Reply:
        return self.app.dispatcher.handle(Inbound(actor=Actor("console", person, person), text=text, channel="ops"))

    def signed_in(self) -> httpx.Client:
        """A client holding the session cookie of the static token's person."""
        client = httpx.Client(base_url=self.url, timeout=10)
        answer = client.get("/signin", params={"token": TOKEN})
        assert answer.status_code == 303, answer.text
        return client


def token_env(person: str) -> dict[str, str]:
    return {"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": person}


class AlbKeys:
    """A local stand-in for public-keys.auth.elb.<region>.amazonaws.com: serves PEM keys by kid."""

    def __init__(self) -> None:
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.fetches: list[str] = []
        keys = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                keys.fetches.append(self.path)
                kid = self.path.rsplit("/", 1)[-1]
                key = keys.keys.get(kid)
                if key is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
                self.send_response(200)
                self.send_header("Content-Length", str(len(pem)))
                self.end_headers()
                self.wfile.write(pem)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url_template(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{{region}}/{{kid}}"

    def new_key(self, kid: str) -> ec.EllipticCurvePrivateKey:
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        return self.keys[kid]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def alb_token(key: ec.EllipticCurvePrivateKey, kid: str, claims: dict[str, Any], *, signer: str = ALB_ARN,
              alg: str = "ES256", padded: bool = True) -> str:
    """A token shaped like the ALB's: ES256, kid and signer in the header. The ALB writes its
    segments in base64 with padding and signs them as written, so `padded` tokens do the same."""
    header = {"alg": alg, "kid": kid, "signer": signer, "client": "opsgate-client", "iss": "https://idp.example.com",
              "exp": claims.get("exp"), "typ": "JWT"}

    def segment(data: bytes) -> str:
        text = base64.urlsafe_b64encode(data).decode()
        return text if padded else text.rstrip("=")

    signing_input = f"{segment(json.dumps(header).encode())}.{segment(json.dumps(claims).encode())}"
    signature = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input.encode(), key)  # r || s, as JWS wants
    return f"{signing_input}.{segment(signature)}"


def forge_alg_none(kid: str, claims: dict[str, Any]) -> str:
    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{segment({'alg': 'none', 'kid': kid, 'signer': ALB_ARN})}.{segment(claims)}."


# -- incidents and alert groups, written the way their parts write them -----------------------------

def add_incident(world: PagesWorld, *, number: int = 1, title: str = "Checkout returns 500s",
                 resolved: bool = False) -> str:
    from datetime import timedelta

    from opsgate.domain.incident import Incident, RoleHolder, Status, TimelineEntry

    now = world.clock.now()
    incident = Incident(id=f"inc-{number}", number=number, title=title, severity="2",
                        status=Status.RESOLVED if resolved else Status.INVESTIGATING, declared_by="alice",
                        declared_by_name="Alice Example", declared_at=now, updated_at=now,
                        resolved_at=now + timedelta(minutes=30) if resolved else None)
    with world.app.store.transaction() as tx:
        tx.incident_insert(incident)
        tx.incident_set_role(incident.id, RoleHolder("commander", "carol", "Carol Example", now, "alice"))
        for minutes, kind, text, ref in ((0, "declared", f"Declared: {title}", None),
                                         (5, "status", "Status: investigating", None),
                                         (9, "command", "restart web prod", "r-abcdefgh")):
            tx.incident_timeline_add(TimelineEntry(incident.id, now + timedelta(minutes=minutes), kind, text, "alice",
                                                   "Alice Example", ref=ref))
    return incident.id


def add_alert_group(world: PagesWorld, *, group_id: str = "g-abcd2345", title: str = "api-latency-p99") -> str:
    from opsgate.domain.alert_groups import AlertMeta, GroupState, StoredGroup
    from opsgate.domain.alerts import Alert, AlertStatus, Severity

    now = world.clock.now()
    alert = Alert(key=f"cloudwatch:{title}", source="cloudwatch", kind="metric_alarm", severity=Severity.HIGH,
                  status=AlertStatus.FIRING, title=title, summary="Threshold crossed", occurred_at=now,
                  event_id="evt-1", environment="prod", region="eu-west-1", resource=title)
    state = GroupState(key="alarm", labels=(("environment", "prod"),), incarnation=1, next_flush_at=now,
                       alerts={alert.key: alert})
    group = StoredGroup(id=group_id, route="prod-alarms", channel="C0OPS", state=state, created_at=now,
                        meta={alert.key: AlertMeta(id="a-abcd2345", joined_at=now, fired_at=now)})
    with world.app.store.transaction() as tx:
        tx.alert_group_save(group, [alert.key], now)
    return group_id
