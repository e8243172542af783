"""Webhook verification: the HMAC over `<timestamp>.<body>`, the 5-minute window, the idempotency key,
secrets from the environment; and hostile input only ever raises WebhookRefused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.adapters.intake.webhook import WebhookRefused, WebhookVerifier, sign, webhook_secrets
from opsgate.domain.intake import WebhookSource
from opsgate.errors import ConfigError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
STAMP = str(int(NOW.timestamp()))
SECRET = b"0123456789abcdef-grafana"
BODY = b'{"status": "firing"}'


@pytest.fixture
def verifier() -> WebhookVerifier:
    return WebhookVerifier({"grafana": [SECRET]})


def headers(body: bytes = BODY, *, stamp: str = STAMP, secret: bytes = SECRET, **extra: str) -> dict[str, str]:
    return {"x-opsgate-timestamp": stamp, "x-opsgate-signature": sign(secret, stamp, body), **extra}


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    # Written out independently of `sign`, as a sender would.
    expected = hmac.new(SECRET, f"{STAMP}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, STAMP, BODY) == "sha256=" + expected


def test_a_signed_delivery_becomes_an_event_of_its_source(verifier):
    event = verifier.verify("grafana", BODY, headers(**{"x-opsgate-delivery": "abc-1"}), NOW)
    assert (event.source, event.external_id, event.body) == ("webhook:grafana", "abc-1", {"status": "firing"})


def test_without_a_delivery_id_the_key_is_the_body_hash(verifier):
    event = verifier.verify("grafana", BODY, headers(), NOW)
    assert event.external_id == "sha256:" + hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize("offset, accepted", [(-300, True), (300, True), (-301, False), (301, False)])
def test_the_timestamp_window_is_five_minutes_either_way(verifier, offset, accepted):
    stamp = str(int(NOW.timestamp()) + offset)
    if accepted:
        verifier.verify("grafana", BODY, headers(stamp=stamp), NOW)
    else:
        with pytest.raises(WebhookRefused) as caught:
            verifier.verify("grafana", BODY, headers(stamp=stamp), NOW)
        assert (caught.value.reason, caught.value.status) == ("stale", 401)


def test_the_signature_covers_the_timestamp(verifier):
    sent = headers()
    sent["x-opsgate-timestamp"] = str(int(STAMP) + 1)  # replayed with a fresh timestamp
    with pytest.raises(WebhookRefused, match="bad_signature"):
        verifier.verify("grafana", BODY, sent, NOW)


def test_an_uppercase_hex_signature_is_not_accepted_loosely(verifier):
    sent = headers()
    sent["x-opsgate-signature"] = sent["x-opsgate-signature"].upper().replace("SHA256=", "sha256=")
    with pytest.raises(WebhookRefused, match="bad_signature"):
        verifier.verify("grafana", BODY, sent, NOW)


def test_an_unknown_source_is_refused_before_anything_else(verifier):
    with pytest.raises(WebhookRefused) as caught:
        verifier.verify("other", b"", {}, NOW)
    assert (caught.value.reason, caught.value.status) == ("unknown_source", 404)


def test_secrets_come_from_the_named_variables_and_may_be_two_while_rotating():
    hooks = [WebhookSource("grafana", "HOOK_A"), WebhookSource("ci", "HOOK_B")]
    found = webhook_secrets(hooks, {"HOOK_A": "a" * 16, "HOOK_B": " new-secret-123456 , old-secret-123456 "})
    assert found == {"grafana": [b"a" * 16], "ci": [b"new-secret-123456", b"old-secret-123456"]}


def test_a_missing_or_short_secret_is_a_config_error_naming_the_variable():
    hooks = [WebhookSource("grafana", "HOOK_A"), WebhookSource("ci", "HOOK_B")]
    with pytest.raises(ConfigError) as caught:
        webhook_secrets(hooks, {"HOOK_B": "short"})
    assert caught.value.problems == [
        "HOOK_A is not set: webhook 'grafana' needs its HMAC secret there",
        "HOOK_B: each secret must be at least 16 characters (webhook 'ci')",
    ]
    assert "short" not in str(caught.value)  # never the secret itself


header_values = st.text(max_size=80) | st.sampled_from([STAMP, str(int(STAMP) + 400), sign(SECRET, STAMP, BODY)])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["grafana", "other", ""]), st.binary(max_size=200) | st.just(BODY),
       st.dictionaries(st.sampled_from(["x-opsgate-timestamp", "x-opsgate-signature", "x-opsgate-delivery"]),
                       header_values))
def test_hostile_deliveries_only_raise_webhook_refused(name, body, sent):
    verifier = WebhookVerifier({"grafana": [SECRET]})
    try:
        event = verifier.verify(name, body, sent, NOW)
    except WebhookRefused as refused:
        assert refused.status in (400, 401, 404, 413)
        return
    json.dumps(event.body)  # whatever is accepted can be stored


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_correctly_signed_body_is_stored_or_refused_as_malformed(body):
    verifier = WebhookVerifier({"grafana": [SECRET]})
    try:
        event = verifier.verify("grafana", body, headers(body), NOW)
    except WebhookRefused as refused:
        assert refused.reason == "malformed"
        return
    assert isinstance(event.body, dict)
