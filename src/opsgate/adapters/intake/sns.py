"""Amazon SNS HTTP(S) deliveries: parse, then verify before anything else looks at them.

`SnsVerifier.verify(body, header_type, now)` returns a `SnsMessage` that is authentic, fresh, from
a configured topic and not seen before, or raises `SnsRefused` with a reason code the web layer
maps to a 4xx status and counts. Order of checks: size, shape, topic, age, certificate URL,
signature, and only then replay, so a forged message can never mark a real MessageId as seen.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from opsgate.adapters.intake.json_body import NotAJsonObject, json_object
from opsgate.adapters.intake.sns_certificates import (
    AWS_CERT_HOST,
    CertificateCache,
    CertificateUnavailable,
    CertificateUrlError,
    check_certificate_url,
)

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
MESSAGE_TYPES = (NOTIFICATION, SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION)

# The signed keys, in the order SNS signs them; Subject only when the message has one.
_SIGNED_NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SIGNED_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
# SNS messages are at most 256 KiB; JSON escaping in the envelope can roughly double that.
DEFAULT_MAX_BODY_BYTES = 600 * 1024


class SnsRefused(Exception):
    """A delivery opsgate will not act on. `reason` is one of the codes below, for metrics."""

    FORGED_SIGNATURE = "forged_signature"
    BAD_CERT_URL = "bad_cert_url"
    CERT_UNAVAILABLE = "cert_unavailable"  # not the sender's fault: answer 5xx so SNS retries
    REPLAYED = "replayed"
    STALE = "stale"
    UNKNOWN_TOPIC = "unknown_topic"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SnsMessage:
    type: str
    message_id: str
    topic_arn: str
    timestamp: datetime
    message: str
    subject: str | None
    signature_version: str
    signature: bytes
    signing_cert_url: str
    subscribe_url: str | None  # confirmations: the caller GETs it to confirm
    token: str | None
    raw: dict[str, Any]  # the whole envelope, as `opsgate.core.notifications.normalise` takes it

    def canonical_string(self) -> bytes:
        """The bytes SNS signed: `Key\\nValue\\n` for each signed key present, in fixed order."""
        keys = _SIGNED_NOTIFICATION if self.type == NOTIFICATION else _SIGNED_CONFIRMATION
        return "".join(f"{k}\n{self.raw[k]}\n" for k in keys if self.raw.get(k) is not None).encode()


def parse_message(body: bytes, header_type: str | None, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> SnsMessage:
    """The envelope, checked for shape only (no signature yet)."""
    if len(body) > max_body_bytes:
        raise SnsRefused(SnsRefused.TOO_LARGE, f"body is larger than {max_body_bytes} bytes")
    try:
        data = json_object(body)
    except NotAJsonObject as problem:
        raise SnsRefused(SnsRefused.MALFORMED, str(problem)) from None
    kind = _field(data, "Type")
    if kind not in MESSAGE_TYPES:
        raise SnsRefused(SnsRefused.MALFORMED, f"Type must be one of {', '.join(MESSAGE_TYPES)}")
    if header_type != kind:
        raise SnsRefused(SnsRefused.MALFORMED, "x-amz-sns-message-type header does not match the body's Type")
    confirmation = kind != NOTIFICATION
    version = _field(data, "SignatureVersion")
    if version not in _HASHES:
        raise SnsRefused(SnsRefused.MALFORMED, "SignatureVersion must be 1 or 2")
    try:
        signature = base64.b64decode(_field(data, "Signature"), validate=True)
    except (binascii.Error, ValueError):
        raise SnsRefused(SnsRefused.MALFORMED, "Signature is not base64") from None
    stamp = _field(data, "Timestamp")
    try:
        timestamp = datetime.fromisoformat(stamp)
    except ValueError:
        raise SnsRefused(SnsRefused.MALFORMED, "Timestamp is not an ISO 8601 time") from None
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return SnsMessage(
        type=kind, message_id=_field(data, "MessageId"), topic_arn=_field(data, "TopicArn"),
        timestamp=timestamp, message=_field(data, "Message", allow_empty=True),
        subject=_optional_subject(data),
        signature_version=version, signature=signature, signing_cert_url=_field(data, "SigningCertURL"),
        subscribe_url=_field(data, "SubscribeURL") if confirmation else None,
        token=_field(data, "Token") if confirmation else None, raw=data,
    )


def _optional_subject(data: dict[str, Any]) -> str | None:
    subject = data.get("Subject")
    if subject is not None and not isinstance(subject, str):
        raise SnsRefused(SnsRefused.MALFORMED, "Subject must be a string")
    return subject


def _field(data: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise SnsRefused(SnsRefused.MALFORMED, f"{key} must be a non-empty string")
    return value


class SnsVerifier:
    """Checks SNS deliveries. `seen(message_id)` answers True for an id seen before (and records it):
    the store's idempotency claim, called only for authentic messages."""

    def __init__(self, *, topic_arns: Iterable[str], certificates: CertificateCache, seen: Callable[[str], bool],
                 max_age_s: float = 3600.0, max_future_s: float = 300.0, cert_host_pattern: str = AWS_CERT_HOST,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.topic_arns = frozenset(topic_arns)
        self.certificates = certificates
        self.seen = seen
        self.max_age_s = max_age_s
        self.max_future_s = max_future_s  # clock skew between SNS and us
        self.cert_host_pattern = cert_host_pattern
        self.max_body_bytes = max_body_bytes

    def verify(self, body: bytes, header_type: str | None, now: datetime, *, fetch: bool = True) -> SnsMessage:
        """The authentic message, or SnsRefused saying why not. With `fetch=False` only CPU work is
        done: a certificate that is not cached raises CertificateNotCached (verify again with fetch)."""
        message = parse_message(body, header_type, max_body_bytes=self.max_body_bytes)
        # Every type must come from a configured topic: a stranger's topic could otherwise
        # subscribe us (SubscriptionConfirmation) or be unsubscribed in our name.
        if message.topic_arn not in self.topic_arns:
            raise SnsRefused(SnsRefused.UNKNOWN_TOPIC, f"topic {message.topic_arn[:200]!r} is not configured")
        try:
            age = now - message.timestamp
        except OverflowError:  # a Timestamp near year 1 or 9999
            age = timedelta.max
        if age > timedelta(seconds=self.max_age_s) or age < -timedelta(seconds=self.max_future_s):
            raise SnsRefused(SnsRefused.STALE, f"Timestamp {message.timestamp.isoformat()} is too far from now")
        self._check_signature(message, now, fetch)
        if self.seen(message.message_id):
            raise SnsRefused(SnsRefused.REPLAYED, f"MessageId {message.message_id[:100]!r} was seen before")
        return message

    def _check_signature(self, message: SnsMessage, now: datetime, fetch: bool) -> None:
        try:
            check_certificate_url(message.signing_cert_url, self.cert_host_pattern)
        except CertificateUrlError as err:
            raise SnsRefused(SnsRefused.BAD_CERT_URL, str(err)) from None
        try:
            key = self.certificates.public_key(message.signing_cert_url, now, fetch=fetch)
        except CertificateUnavailable as err:
            raise SnsRefused(SnsRefused.CERT_UNAVAILABLE, str(err)) from None
        algorithm = _HASHES[message.signature_version]()
        try:
            key.verify(message.signature, message.canonical_string(), padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise SnsRefused(SnsRefused.FORGED_SIGNATURE, "signature does not match the message") from None
