"""Real signed SNS messages (signature versions 1 and 2) against a certificate served over local HTTPS."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from opsgate.adapters.intake.sns import (
    NOTIFICATION,
    SUBSCRIPTION_CONFIRMATION,
    UNSUBSCRIBE_CONFIRMATION,
    SnsRefused,
    SnsVerifier,
)
from opsgate.adapters.intake.sns_certificates import (
    CertificateCache,
    HttpsCertificateFetcher,
)
from tests.adapters.intake.sns_pki import NOW, TOPIC, body, sign, signed_envelope

LOCAL_HOST = r"127\.0\.0\.1:\d+"


class SeenIds:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    def __call__(self, message_id: str) -> bool:
        if message_id in self.ids:
            return True
        self.ids.add(message_id)
        return False


@pytest.fixture
def seen() -> SeenIds:
    return SeenIds()


@pytest.fixture
def cache(pki) -> CertificateCache:
    return CertificateCache(HttpsCertificateFetcher(ssl_context=pki.client_context(), timeout_s=2))


@pytest.fixture
def verifier(cache, seen) -> SnsVerifier:
    return SnsVerifier(topic_arns=[TOPIC], certificates=cache, seen=seen, cert_host_pattern=LOCAL_HOST)


def refused(verifier: SnsVerifier, envelope: dict, header: str | None = NOTIFICATION, now=NOW) -> str:
    with pytest.raises(SnsRefused) as caught:
        verifier.verify(body(envelope), header, now)
    return caught.value.reason


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_accepted(verifier, pki, cert_server, version):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), version=version)
    message = verifier.verify(body(envelope), NOTIFICATION, NOW)
    assert message.type == NOTIFICATION and message.topic_arn == TOPIC
    assert json.loads(message.message) == {"AlarmName": "web-5xx-high"}
    assert message.raw["MessageId"] == envelope["MessageId"]  # what `normalise` takes


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_notification_without_subject_is_accepted(verifier, pki, cert_server, version):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), version=version, subject=None)
    assert verifier.verify(body(envelope), NOTIFICATION, NOW).subject is None


@pytest.mark.parametrize("kind", [SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION])
def test_signed_confirmations_for_a_configured_topic_are_accepted(verifier, pki, cert_server, kind):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), kind=kind, version="2")
    message = verifier.verify(body(envelope), kind, NOW)
    assert message.subscribe_url == envelope["SubscribeURL"]  # the caller GETs it to confirm
    assert message.token == envelope["Token"]


def test_a_subscription_confirmation_for_another_topic_is_refused(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), kind=SUBSCRIPTION_CONFIRMATION,
                               topic="arn:aws:sns:eu-west-1:999999999999:strangers")
    assert refused(verifier, envelope, SUBSCRIPTION_CONFIRMATION) == "unknown_topic"


def test_notifications_from_other_topics_are_refused(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), topic="arn:aws:sns:eu-west-1:999999999999:x")
    assert refused(verifier, envelope) == "unknown_topic"


@pytest.mark.parametrize("field, value", [
    ("Message", '{"AlarmName": "something-else"}'),
    ("MessageId", "another-id"),
    ("Subject", "OK: web"),
    ("Timestamp", "2026-03-02T08:59:56.000Z"),
    ("Type", NOTIFICATION),  # unchanged value, but see the next line: the signature is swapped below
])
def test_a_tampered_signed_field_is_a_forged_signature(verifier, pki, cert_server, field, value):
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    if field == "Type":
        envelope["Signature"] = signed_envelope(pki.signing_key, cert_server.url(), message="other")["Signature"]
    else:
        envelope[field] = value
    assert refused(verifier, envelope) == "forged_signature"


def test_adding_a_subject_that_was_not_signed_is_a_forged_signature(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), subject=None)
    envelope["Subject"] = "injected"
    assert refused(verifier, envelope) == "forged_signature"


def test_a_message_signed_with_another_key_is_a_forged_signature(verifier, pki, cert_server):
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert refused(verifier, signed_envelope(stranger, cert_server.url())) == "forged_signature"


def test_a_v1_signature_claimed_as_v2_is_a_forged_signature(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), version="1")
    envelope["SignatureVersion"] = "2"
    assert refused(verifier, envelope) == "forged_signature"


def test_the_same_message_id_twice_is_a_replay(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    verifier.verify(body(envelope), NOTIFICATION, NOW)
    assert refused(verifier, envelope) == "replayed"


def test_a_forged_message_never_marks_its_id_as_seen(verifier, pki, cert_server, seen):
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    forged = dict(envelope, Message="forged")
    assert refused(verifier, forged) == "forged_signature"
    assert seen.ids == set()
    verifier.verify(body(envelope), NOTIFICATION, NOW)  # the real one still gets through


@pytest.mark.parametrize("age_s, reason", [(3601, "stale"), (-301, "stale")])
def test_old_or_future_timestamps_are_refused(verifier, pki, cert_server, age_s, reason):
    envelope = signed_envelope(pki.signing_key, cert_server.url(), timestamp=NOW - dt.timedelta(seconds=age_s))
    assert refused(verifier, envelope) == reason


def test_the_age_limit_is_configurable(cache, seen, pki, cert_server):
    strict = SnsVerifier(topic_arns=[TOPIC], certificates=cache, seen=seen, cert_host_pattern=LOCAL_HOST,
                         max_age_s=60)
    envelope = signed_envelope(pki.signing_key, cert_server.url(), timestamp=NOW - dt.timedelta(seconds=61))
    assert refused(strict, envelope) == "stale"


def test_a_certificate_url_off_the_allowed_host_is_refused_before_any_fetch(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url().replace("127.0.0.1", "localhost"))
    assert refused(verifier, envelope) == "bad_cert_url"
    assert cert_server.hits == {}


def test_the_default_policy_refuses_a_local_certificate_url(cache, seen, pki, cert_server):
    aws_only = SnsVerifier(topic_arns=[TOPIC], certificates=cache, seen=seen)
    assert refused(aws_only, signed_envelope(pki.signing_key, cert_server.url())) == "bad_cert_url"


def test_the_certificate_is_fetched_once_and_cached(verifier, pki, cert_server, cache):
    for index in range(5):
        envelope = signed_envelope(pki.signing_key, cert_server.url(), message_id=f"id-{index}")
        verifier.verify(body(envelope), NOTIFICATION, NOW)
    assert cert_server.hits == {"/SimpleNotificationService-test.pem": 1} and cache.fetches == 1


def test_a_missing_certificate_is_unavailable_not_forged(verifier, pki, cert_server):
    envelope = signed_envelope(pki.signing_key, cert_server.url("/SimpleNotificationService-gone.pem"))
    assert refused(verifier, envelope) == "cert_unavailable"


def test_a_certificate_from_a_server_the_fetcher_does_not_trust_is_unavailable(pki, cert_server, seen):
    untrusting = CertificateCache(HttpsCertificateFetcher(timeout_s=2))  # system CAs only
    verifier = SnsVerifier(topic_arns=[TOPIC], certificates=untrusting, seen=seen, cert_host_pattern=LOCAL_HOST)
    assert refused(verifier, signed_envelope(pki.signing_key, cert_server.url())) == "cert_unavailable"


@pytest.mark.parametrize("header", [None, SUBSCRIPTION_CONFIRMATION, "notification"])
def test_the_header_type_must_match_the_body(verifier, pki, cert_server, header):
    assert refused(verifier, signed_envelope(pki.signing_key, cert_server.url()), header) == "malformed"


def test_an_oversized_body_is_refused_before_parsing(cache, seen):
    small = SnsVerifier(topic_arns=[TOPIC], certificates=cache, seen=seen, max_body_bytes=1000)
    with pytest.raises(SnsRefused) as caught:
        small.verify(b"{" + b" " * 1000 + b"}", NOTIFICATION, NOW)
    assert caught.value.reason == "too_large"


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("Signature"),
    lambda e: e.update(Signature="not base64!"),
    lambda e: e.update(SignatureVersion="3"),
    lambda e: e.update(SignatureVersion=1),
    lambda e: e.update(Timestamp="yesterday"),
    lambda e: e.update(Type="Surprise"),
    lambda e: e.pop("MessageId"),
    lambda e: e.update(Subject=5),
    lambda e: e.pop("SigningCertURL"),
])
def test_malformed_envelopes_are_refused(verifier, pki, cert_server, mutate):
    envelope = signed_envelope(pki.signing_key, cert_server.url())
    mutate(envelope)
    assert refused(verifier, envelope, envelope.get("Type") if isinstance(envelope.get("Type"), str) else None) \
        == "malformed"


def test_a_resigned_envelope_with_a_changed_message_verifies(verifier, pki, cert_server):
    """The test signer really follows the canonical form: re-signing after a change makes it valid."""
    envelope = signed_envelope(pki.signing_key, cert_server.url(), version="2")
    envelope["Message"] = "changed"
    assert verifier.verify(body(sign(envelope, pki.signing_key)), NOTIFICATION, NOW).message == "changed"
