"""POST /events/sns and /events/webhook/<name> over real HTTP (uvicorn on 127.0.0.1), built by the
wiring from a catalog and settings, with a real store: real signed SNS messages whose certificate a
local HTTPS server holds, and HMAC-signed webhooks. Every refusal is a 4xx (5xx only for "not
now") naming a reason that is counted; a retried message is a 200 and stored once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from opsgate.adapters.intake.sns import NOTIFICATION, SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION
from opsgate.adapters.intake.webhook import sign as sign_webhook
from opsgate.adapters.store import open_store
from opsgate.adapters.store.tables_events import events
from opsgate.config.settings import resolve_settings
from opsgate.metrics import REGISTRY
from opsgate.testing import FakeClock
from opsgate.web.app import WebParts, create_app
from opsgate.web.server_thread import ServerThread
from opsgate.wiring import catalog_from, intake_web
from tests.adapters.intake.conftest import cert_server, pki  # noqa: F401  (fixtures)
from tests.adapters.intake.sns_pki import NOW, TOPIC, body, pem, sign, signed_envelope

SECRET = "grafana-secret-0123456789abcdef"
OTHER_TOPIC = "arn:aws:sns:eu-west-1:999999999999:strangers"
CATALOG = f"""
version: 1
environments:
  - {{name: prod, account: "222222222222", region: eu-west-1}}
intake:
  sns:
    topics: ["{TOPIC}"]
  webhooks:
    - {{name: grafana, secret_env: TEST_WEBHOOK_GRAFANA}}
"""
CONFIRMED_XML = (b"<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
                 + TOPIC.encode() + b":0b9f3c</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>")


class IntakeWorld:
    def __init__(self, tmp_path, database_url: str, pki) -> None:  # noqa: F811
        (tmp_path / "opsgate.yaml").write_text(CATALOG)
        (tmp_path / "ca.pem").write_bytes(pem(pki.ca))
        settings = resolve_settings({"OPSGATE_DATABASE_URL": database_url,
                                     "OPSGATE_SNS_CERT_HOST_PATTERN": r"127\.0\.0\.1:\d+",
                                     "OPSGATE_SNS_CA_FILE": "ca.pem"},
                                    config=tmp_path / "opsgate.yaml", cwd=tmp_path)
        self.store = open_store(database_url)
        self.clock = FakeClock(NOW)
        self.wakes = 0
        web = intake_web(settings, catalog_from(settings.config_path), self.store, self.clock,
                         on_stored=self._woken, environ={"TEST_WEBHOOK_GRAFANA": SECRET})
        asgi = create_app(WebParts(readiness=self.store.readiness_problem, routes=web.routes,
                                   body_limits=web.body_limits))
        self.server = ServerThread(asgi).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=10)

    def _woken(self) -> None:
        self.wakes += 1

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.store.close()

    def sns(self, envelope: dict | bytes, message_type: str | None = NOTIFICATION) -> httpx.Response:
        data = envelope if isinstance(envelope, bytes) else body(envelope)
        headers = {"Content-Type": "text/plain; charset=UTF-8"}
        if message_type is not None:
            headers["x-amz-sns-message-type"] = message_type
        return self.http.post("/events/sns", content=data, headers=headers)

    def webhook(self, data: bytes, *, name: str = "grafana", secret: str = SECRET, timestamp: int | None = None,
                delivery: str | None = None, headers: dict | None = None) -> httpx.Response:
        stamp = str(int(self.clock.now().timestamp()) if timestamp is None else timestamp)
        sent = {"X-Opsgate-Timestamp": stamp, "X-Opsgate-Signature": sign_webhook(secret.encode(), stamp, data),
                "Content-Type": "application/json"}
        if delivery is not None:
            sent["X-Opsgate-Delivery"] = delivery
        sent.update(headers or {})
        return self.http.post(f"/events/webhook/{name}", content=data, headers=sent)

    def stored(self) -> list:
        with self.store.engine.connect() as conn:
            return list(conn.execute(events.select().order_by(events.c.id)))

    def audit(self) -> list[dict]:
        return [record.fields() for record in self.store.iter_audit()]


@pytest.fixture
def world(tmp_path, database_url, pki):  # noqa: F811
    world = IntakeWorld(tmp_path, database_url, pki)
    yield world
    world.close()


def count(source: str, result: str) -> float:
    return REGISTRY.get_sample_value("opsgate_intake_events_total", {"source": source, "result": result}) or 0.0


def subscriptions(kind: str, result: str) -> float:
    return REGISTRY.get_sample_value("opsgate_sns_subscriptions_total", {"type": kind, "result": result}) or 0.0


def refused_with(answer: httpx.Response, status: int, reason: str) -> bool:
    return answer.status_code == status and answer.json()["ok"] is False and answer.json()["error"] == reason


# -- SNS notifications ----------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_stored_whole_and_answered_200(world, pki, cert_server, version):  # noqa: F811
    envelope = signed_envelope(pki.signing_key, cert_server.url(), version=version)
    before = count("sns", "stored")
    answer = world.sns(envelope)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "stored": True}
    [row] = world.stored()
    assert (row.source, row.external_id, row.body) == ("sns", envelope["MessageId"], envelope)
    assert (row.received_at, row.processed_at) == (NOW, None)
    assert count("sns", "stored") - before == 1
    assert world.wakes == 1


def test_a_retried_message_id_is_answered_200_and_stored_once(world, pki, cert_server):  # noqa: F811
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    assert world.sns(envelope).json()["stored"] is True
    before = count("sns", "duplicate")
    again = world.sns(envelope)  # SNS retries with the same MessageId: it must stop retrying
    assert again.status_code == 200 and again.json() == {"ok": True, "stored": False, "duplicate": True}
    assert len(world.stored()) == 1
    assert count("sns", "duplicate") - before == 1
    assert world.wakes == 1  # a duplicate wakes nothing


def _stranger_signed(pki, cert_url):  # noqa: F811
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return signed_envelope(stranger, cert_url)


def _tampered(pki, cert_url):  # noqa: F811
    return dict(signed_envelope(pki.signing_key, cert_url), Message='{"AlarmName": "quietly-changed"}')


REFUSALS = {
    "forged": (_stranger_signed, NOTIFICATION, 403, "forged_signature"),
    "tampered": (_tampered, NOTIFICATION, 403, "forged_signature"),
    "unknown topic": (lambda p, url: signed_envelope(p.signing_key, url, topic=OTHER_TOPIC), NOTIFICATION, 403,
                      "unknown_topic"),
    "stale": (lambda p, url: signed_envelope(p.signing_key, url, timestamp=NOW - timedelta(hours=2)), NOTIFICATION,
              403, "stale"),
    "certificate over http": (lambda p, url: signed_envelope(p.signing_key, url.replace("https:", "http:")),
                              NOTIFICATION, 403, "bad_cert_url"),
    "certificate elsewhere": (lambda p, url: signed_envelope(p.signing_key, "https://evil.example.com/x.pem"),
                              NOTIFICATION, 403, "bad_cert_url"),
    "header disagrees": (lambda p, url: signed_envelope(p.signing_key, url), SUBSCRIPTION_CONFIRMATION, 400, "malformed"),
    "no header": (lambda p, url: signed_envelope(p.signing_key, url), None, 400, "malformed"),
    "not json": (lambda p, url: b"{not json", NOTIFICATION, 400, "malformed"),
    "not an object": (lambda p, url: b"[1, 2, 3]", NOTIFICATION, 400, "malformed"),
    "unsigned": (lambda p, url: {k: v for k, v in signed_envelope(p.signing_key, url).items() if k != "Signature"},
                 NOTIFICATION, 400, "malformed"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_notification_is_a_4xx_naming_its_counted_reason_and_stores_nothing(world, pki, cert_server, case):  # noqa: F811
    make, header, status, reason = REFUSALS[case]
    kind = {SUBSCRIPTION_CONFIRMATION: "subscribe"}.get(header or "")
    before = subscriptions(kind, reason) if kind else count("sns", reason)
    answer = world.sns(make(pki, cert_server.url()), header)
    assert refused_with(answer, status, reason), answer.text
    assert world.stored() == []
    assert (subscriptions(kind, reason) if kind else count("sns", reason)) - before == 1


def test_a_body_over_the_limit_is_413_before_it_is_read_and_counted(world):
    before = count("sns", "too_large")
    answer = world.sns(b"{" + b" " * (700 * 1024) + b"}")
    assert refused_with(answer, 413, "too_large")
    assert count("sns", "too_large") - before == 1


def test_a_large_message_within_the_sns_limit_is_accepted(world, pki, cert_server):  # noqa: F811
    envelope = signed_envelope(pki.signing_key, cert_server.url(), message=json.dumps({"blob": "x" * 250_000}))
    assert world.sns(envelope).status_code == 200  # larger than Slack's 64 KiB body limit


def test_an_unreachable_certificate_is_a_503_so_sns_retries(world, pki, cert_server):  # noqa: F811
    envelope = signed_envelope(pki.signing_key, cert_server.url("/gone.pem"))
    before = count("sns", "cert_unavailable")
    assert refused_with(world.sns(envelope), 503, "cert_unavailable")
    assert count("sns", "cert_unavailable") - before == 1 and world.stored() == []


def test_the_signing_certificate_is_fetched_once_for_many_messages(world, pki, cert_server):  # noqa: F811
    for n in range(5):
        assert world.sns(signed_envelope(pki.signing_key, cert_server.url(), message_id=f"m-{n}")).status_code == 200
    assert cert_server.hits["/SimpleNotificationService-test.pem"] == 1
    assert len(world.stored()) == 5


def test_a_database_that_cannot_store_is_a_503_so_sns_retries(world, pki, cert_server):  # noqa: F811
    with world.store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events RENAME TO events_away")
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    try:
        assert refused_with(world.sns(envelope), 503, "unavailable")
    finally:
        with world.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE events_away RENAME TO events")
    assert world.sns(envelope).json() == {"ok": True, "stored": True}  # the retry gets through


def test_other_methods_and_paths_are_not_intake(world):
    assert world.http.get("/events/sns").status_code == 405
    assert world.http.post("/events/other", content=b"{}").status_code == 404


# -- SNS subscriptions ----------------------------------------------------------------------------

def confirmation(pki, cert_server, *, topic: str = TOPIC, kind: str = SUBSCRIPTION_CONFIRMATION,  # noqa: F811
                 path: str | None = None) -> tuple[dict, str]:
    path = path or f"/?Action=ConfirmSubscription&TopicArn={topic}&Token=2336412f37fb687f"
    envelope = signed_envelope(pki.signing_key, cert_server.url(), kind=kind, topic=topic)
    envelope["SubscribeURL"] = cert_server.url(path)
    return sign(envelope, pki.signing_key), path


def test_a_confirmation_for_a_configured_topic_is_confirmed_and_audited(world, pki, cert_server):  # noqa: F811
    envelope, path = confirmation(pki, cert_server)
    cert_server.routes[path] = CONFIRMED_XML
    before = subscriptions("subscribe", "confirmed")
    answer = world.sns(envelope, SUBSCRIPTION_CONFIRMATION)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "subscribed": True}
    assert cert_server.hits[path] == 1  # the SubscribeURL was called
    [record] = [r for r in world.audit() if r["event"] == "intake.subscribed"]
    assert (record["target"], record["outcome"]) == (TOPIC, "confirmed")
    assert record["correlation"]["subscription_arn"] == TOPIC + ":0b9f3c"
    assert "Token" not in json.dumps(record)  # the token confirms subscriptions: never recorded
    assert world.stored() == []  # a confirmation is not an event
    assert subscriptions("subscribe", "confirmed") - before == 1


def test_a_confirmation_for_another_topic_is_refused_without_calling_it(world, pki, cert_server):  # noqa: F811
    envelope, path = confirmation(pki, cert_server, topic=OTHER_TOPIC)
    cert_server.routes[path] = CONFIRMED_XML
    before = subscriptions("subscribe", "unknown_topic")
    assert refused_with(world.sns(envelope, SUBSCRIPTION_CONFIRMATION), 403, "unknown_topic")
    assert cert_server.hits.get(path, 0) == 0
    assert subscriptions("subscribe", "unknown_topic") - before == 1
    assert [r for r in world.audit() if r["event"] == "intake.subscribed"] == []


def test_a_subscribe_url_for_another_topic_is_refused(world, pki, cert_server):  # noqa: F811
    path = f"/?Action=ConfirmSubscription&TopicArn={OTHER_TOPIC}&Token=1"
    envelope, _ = confirmation(pki, cert_server, path=path)
    cert_server.routes[path] = CONFIRMED_XML
    assert refused_with(world.sns(envelope, SUBSCRIPTION_CONFIRMATION), 403, "bad_subscribe_url")
    assert cert_server.hits.get(path, 0) == 0


def test_a_failed_confirmation_is_a_503_so_sns_sends_it_again(world, pki, cert_server):  # noqa: F811
    envelope, path = confirmation(pki, cert_server)  # no route: the GET answers 404
    before = subscriptions("subscribe", "confirm_failed")
    assert refused_with(world.sns(envelope, SUBSCRIPTION_CONFIRMATION), 503, "confirm_failed")
    assert subscriptions("subscribe", "confirm_failed") - before == 1
    assert [r for r in world.audit() if r["event"] == "intake.subscribed"] == []


def test_an_unsubscribe_confirmation_is_acknowledged_and_nothing_else(world, pki, cert_server):  # noqa: F811
    envelope, path = confirmation(pki, cert_server, kind=UNSUBSCRIBE_CONFIRMATION)
    before = subscriptions("unsubscribe", "acknowledged")
    assert world.sns(envelope, UNSUBSCRIBE_CONFIRMATION).json() == {"ok": True}
    assert cert_server.hits.get(path, 0) == 0 and world.stored() == []
    assert subscriptions("unsubscribe", "acknowledged") - before == 1


# -- webhooks -------------------------------------------------------------------------------------

ALERT = json.dumps({"status": "firing", "alerts": [{"labels": {"alertname": "HighLatency"}}]}).encode()


def test_a_signed_webhook_is_stored_under_its_source(world):
    before = count("webhook:grafana", "stored")
    answer = world.webhook(ALERT, delivery="d-1")
    assert answer.status_code == 200 and answer.json() == {"ok": True, "stored": True}
    [row] = world.stored()
    assert (row.source, row.external_id, row.body) == ("webhook:grafana", "d-1", json.loads(ALERT))
    assert count("webhook:grafana", "stored") - before == 1 and world.wakes == 1


def test_a_redelivery_is_recognised_by_its_delivery_id_or_else_its_body(world):
    assert world.webhook(ALERT, delivery="d-1").json()["stored"] is True
    assert world.webhook(ALERT, delivery="d-1").json() == {"ok": True, "stored": False, "duplicate": True}
    assert world.webhook(ALERT).json()["stored"] is True  # no delivery id: keyed by the body's hash
    assert world.webhook(ALERT, timestamp=int(NOW.timestamp()) - 10).json()["stored"] is False
    assert [row.external_id for row in world.stored()] == ["d-1", "sha256:" + hashlib.sha256(ALERT).hexdigest()]


def test_a_rotated_secret_and_the_previous_one_are_both_accepted(tmp_path, database_url, pki, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TEST_WEBHOOK_GRAFANA", "new-secret-abcdefghijklmnop, " + SECRET)
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    settings = resolve_settings({"OPSGATE_DATABASE_URL": database_url}, config=tmp_path / "opsgate.yaml", cwd=tmp_path)
    store = open_store(database_url)
    try:
        web = intake_web(settings, catalog_from(settings.config_path), store, FakeClock(NOW))  # the process environment
        stamp = str(int(NOW.timestamp()))
        for n, secret in enumerate(["new-secret-abcdefghijklmnop", SECRET]):
            headers = {"x-opsgate-timestamp": stamp, "x-opsgate-signature": sign_webhook(secret.encode(), stamp, ALERT),
                       "x-opsgate-delivery": f"d-{n}"}
            assert asyncio.run(web.webhooks.handle("grafana", ALERT, headers))[0] == 200
        headers["x-opsgate-signature"] = sign_webhook(b"some-other-secret-0123456789", stamp, ALERT)
        assert asyncio.run(web.webhooks.handle("grafana", ALERT, headers))[0] == 401
    finally:
        store.close()


WEBHOOK_REFUSALS = {
    "wrong secret": (dict(secret="not-the-secret-0123456789"), 401, "bad_signature"),
    "stale": (dict(timestamp=int(NOW.timestamp()) - 301), 401, "stale"),
    "from the future": (dict(timestamp=int(NOW.timestamp()) + 301), 401, "stale"),
    "absurd timestamp": (dict(timestamp=999_999_999_999), 401, "stale"),
    "no signature": (dict(headers={"X-Opsgate-Signature": ""}), 401, "unsigned"),
    "timestamp not a number": (dict(headers={"X-Opsgate-Timestamp": "yesterday"}), 401, "unsigned"),
    "signature not hex": (dict(headers={"X-Opsgate-Signature": "sha256=zz"}), 401, "bad_signature"),
    "bad delivery id": (dict(delivery="has spaces"), 400, "malformed"),
}


@pytest.mark.parametrize("case", list(WEBHOOK_REFUSALS))
def test_a_refused_webhook_is_a_4xx_naming_its_counted_reason(world, case):
    changes, status, reason = WEBHOOK_REFUSALS[case]
    before = count("webhook:grafana", reason)
    assert refused_with(world.webhook(ALERT, **changes), status, reason)
    assert count("webhook:grafana", reason) - before == 1 and world.stored() == []


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'"text"', b'{"a": NaN}', b'{"s": "\\ud800"}'])
def test_a_signed_body_that_is_not_a_json_object_is_400(world, data):
    assert refused_with(world.webhook(data), 400, "malformed")
    assert world.stored() == []


def test_a_tampered_webhook_body_fails_its_signature(world):
    stamp = str(int(NOW.timestamp()))
    headers = {"X-Opsgate-Timestamp": stamp, "X-Opsgate-Signature": sign_webhook(SECRET.encode(), stamp, ALERT)}
    answer = world.http.post("/events/webhook/grafana", content=ALERT.replace(b"firing", b"resolved"), headers=headers)
    assert refused_with(answer, 401, "bad_signature")


def test_an_unknown_webhook_is_404_counted_without_its_name(world):
    before = count("webhook", "unknown_source")
    assert refused_with(world.webhook(ALERT, name="grafanna"), 404, "unknown_source")
    assert count("webhook", "unknown_source") - before == 1
    assert REGISTRY.get_sample_value("opsgate_intake_events_total",
                                     {"source": "webhook:grafanna", "result": "unknown_source"}) is None


def test_a_webhook_body_over_the_limit_is_413(world):
    before = count("webhook:grafana", "too_large")
    assert refused_with(world.webhook(b"{" + b" " * (300 * 1024) + b"}"), 413, "too_large")
    assert count("webhook:grafana", "too_large") - before == 1


def test_concurrent_deliveries_of_one_message_store_it_once(world, pki, cert_server):  # noqa: F811
    import concurrent.futures

    envelope = signed_envelope(pki.signing_key, cert_server.url())
    world.sns(signed_envelope(pki.signing_key, cert_server.url(), message_id="warm-up"))  # certificate cached
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: world.sns(envelope), range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(a.json()["stored"] for a in answers) == [False] * 5 + [True]
    assert [row.external_id for row in world.stored()] == ["warm-up", envelope["MessageId"]]


def test_intake_answers_within_a_bounded_time_when_the_certificate_host_hangs(world, pki):  # noqa: F811
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers the TLS handshake
    try:
        envelope = signed_envelope(pki.signing_key, f"https://127.0.0.1:{silent.getsockname()[1]}/x.pem")
        started = time.monotonic()
        assert refused_with(world.sns(envelope), 503, "cert_unavailable")
        assert time.monotonic() - started < 8  # the fetch timeout (3 s), not a hang
    finally:
        silent.close()


def test_a_path_may_have_a_body_limit_of_its_own_and_others_keep_the_default():
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def length(request: Request) -> JSONResponse:
        return JSONResponse({"length": len(await request.body())})

    parts = WebParts(readiness=lambda: None, max_body_bytes=1000, body_limits={"/big/": 5000},
                     routes=[Route("/big/in", length, methods=["POST"]), Route("/small", length, methods=["POST"])])
    server = ServerThread(create_app(parts)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.post("/big/in", content=b"x" * 4000).json() == {"length": 4000}
            assert client.post("/big/in", content=b"x" * 6000).status_code == 413
            assert client.post("/small", content=b"x" * 2000).status_code == 413
    finally:
        server.stop()
