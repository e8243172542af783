"""Confirming an SNS subscription: GET the SubscribeURL of an authentic SubscriptionConfirmation.

The message's signature and topic are checked before this runs (SnsVerifier); the URL is checked
again here — https on an SNS host, asking to confirm this very topic — because a GET to a URL
taken from a request is how servers get talked into calling places they should not.
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import parse_qs

from opsgate.adapters.intake.sns import SnsMessage
from opsgate.adapters.intake.sns_certificates import (
    AWS_CERT_HOST,
    CertificateUrlError,
    HttpsGetFailed,
    check_sns_url,
    https_get,
)

_SUBSCRIPTION_ARN = re.compile(rb"<SubscriptionArn>([^<]{1,512})</SubscriptionArn>")


class SubscriptionRefused(Exception):
    """The SubscribeURL is not one opsgate will call."""


class SubscriptionFailed(Exception):
    """The confirmation GET failed (network, status): SNS should send the confirmation again."""


class SubscriptionConfirmer:
    def __init__(self, *, host_pattern: str = AWS_CERT_HOST, ssl_context: ssl.SSLContext | None = None,
                 timeout_s: float = 5.0, max_bytes: int = 16 * 1024) -> None:
        self.host_pattern = host_pattern
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def confirm(self, message: SnsMessage) -> str:
        """Confirm; returns the subscription ARN SNS answered with ("" if it named none)."""
        url = message.subscribe_url or ""
        try:
            parts = check_sns_url(url, self.host_pattern, name="SubscribeURL", query_allowed=True)
        except CertificateUrlError as err:
            raise SubscriptionRefused(str(err)) from None
        query = parse_qs(parts.query)
        if query.get("Action") != ["ConfirmSubscription"] or query.get("TopicArn") != [message.topic_arn]:
            raise SubscriptionRefused("SubscribeURL does not confirm a subscription to the message's own topic")
        try:
            answer = https_get(url, ssl_context=self.ssl_context, timeout_s=self.timeout_s, max_bytes=self.max_bytes,
                               accept="text/xml")
        except HttpsGetFailed as err:
            raise SubscriptionFailed(f"confirmation request {err}") from None
        found = _SUBSCRIPTION_ARN.search(answer)
        return found.group(1).decode(errors="replace") if found else ""
