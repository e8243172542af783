"""Confirming SNS subscriptions: only an https SubscribeURL on an SNS host that confirms the
message's own topic is ever called; failures are told apart from refusals."""

from __future__ import annotations

import pytest

from opsgate.adapters.intake.sns import SUBSCRIPTION_CONFIRMATION, parse_message
from opsgate.adapters.intake.subscription import SubscriptionConfirmer, SubscriptionFailed, SubscriptionRefused
from tests.adapters.intake.sns_pki import TOPIC, body, sign, signed_envelope

LOCAL_HOST = r"127\.0\.0\.1:\d+"
XML = b"<ConfirmSubscriptionResponse><SubscriptionArn>" + TOPIC.encode() + b":abc</SubscriptionArn></ConfirmSubscriptionResponse>"


def confirmation(pki, subscribe_url: str):
    envelope = signed_envelope(pki.signing_key, "https://sns.eu-west-1.amazonaws.com/x.pem", kind=SUBSCRIPTION_CONFIRMATION)
    envelope["SubscribeURL"] = subscribe_url
    return parse_message(body(sign(envelope, pki.signing_key)), SUBSCRIPTION_CONFIRMATION)


@pytest.fixture
def confirmer(pki) -> SubscriptionConfirmer:
    return SubscriptionConfirmer(host_pattern=LOCAL_HOST, ssl_context=pki.client_context(), timeout_s=2)


def test_the_subscribe_url_is_called_and_the_subscription_arn_returned(confirmer, pki, cert_server):
    path = f"/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t0k3n"
    cert_server.routes[path] = XML
    assert confirmer.confirm(confirmation(pki, cert_server.url(path))) == TOPIC + ":abc"
    assert cert_server.hits[path] == 1


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/?Action=ConfirmSubscription&TopicArn={topic}",
    "https://169.254.169.254/?Action=ConfirmSubscription&TopicArn={topic}",
    "https://user:pw@127.0.0.1:{port}/?Action=ConfirmSubscription&TopicArn={topic}",
    "https://127.0.0.1:{port}/?Action=Unsubscribe&TopicArn={topic}",
    "https://127.0.0.1:{port}/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:999999999999:x",
    "https://127.0.0.1:{port}/?Action=ConfirmSubscription",
])
def test_any_other_url_is_refused_without_a_request(confirmer, pki, cert_server, url):
    with pytest.raises(SubscriptionRefused):
        confirmer.confirm(confirmation(pki, url.format(port=cert_server.port, topic=TOPIC)))
    assert cert_server.hits == {}


def test_the_real_sns_host_pattern_is_the_default(pki):
    confirmer = SubscriptionConfirmer()
    with pytest.raises(SubscriptionRefused, match="not an SNS host"):
        confirmer.confirm(confirmation(pki, f"https://127.0.0.1/?Action=ConfirmSubscription&TopicArn={TOPIC}"))


def test_an_error_answer_is_a_failure_to_retry(confirmer, pki, cert_server):
    with pytest.raises(SubscriptionFailed, match="HTTP 404"):
        confirmer.confirm(confirmation(pki, cert_server.url(f"/?Action=ConfirmSubscription&TopicArn={TOPIC}")))
