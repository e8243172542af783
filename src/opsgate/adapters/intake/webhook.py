"""Generic JSON webhooks, one HMAC secret per source.

A sender signs `<timestamp>.<body>` with HMAC-SHA256 and sends
`X-Opsgate-Timestamp: <unix seconds>` and `X-Opsgate-Signature: sha256=<hex>`; optionally
`X-Opsgate-Delivery: <its id for this delivery>`, the idempotency key (else the body's SHA-256).
Checks, in order: source known, size, timestamp within 5 minutes, signature (constant-time, any of
the source's secrets, so a secret can be rotated), JSON object.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from opsgate.adapters.intake.json_body import NotAJsonObject, json_object
from opsgate.adapters.intake.recorder import Received
from opsgate.domain.intake import WebhookSource
from opsgate.errors import ConfigError

TIMESTAMP_HEADER = "x-opsgate-timestamp"
SIGNATURE_HEADER = "x-opsgate-signature"
DELIVERY_HEADER = "x-opsgate-delivery"
SOURCE_PREFIX = "webhook:"
DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_SKEW_S = 300.0
MIN_SECRET_CHARS = 16
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")
_DELIVERY_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces


class WebhookRefused(Exception):
    """A delivery opsgate will not store. `reason` is a code for metrics; `status` the HTTP answer."""

    UNKNOWN_SOURCE = "unknown_source"
    TOO_LARGE = "too_large"
    UNSIGNED = "unsigned"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    STATUS = {UNKNOWN_SOURCE: 404, TOO_LARGE: 413, UNSIGNED: 401, STALE: 401, BAD_SIGNATURE: 401, MALFORMED: 400}

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def status(self) -> int:
        return self.STATUS[self.reason]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The X-Opsgate-Signature value for a body sent at `timestamp` (unix seconds, as sent)."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_secrets(webhooks: Sequence[WebhookSource], environ: Mapping[str, str]) -> dict[str, list[bytes]]:
    """Each webhook's secrets from the variable its `secret_env` names (comma-separated while
    rotating). A webhook without a usable secret is a ConfigError: never an unsigned endpoint."""
    secrets: dict[str, list[bytes]] = {}
    problems = []
    for webhook in webhooks:
        values = [value.strip() for value in environ.get(webhook.secret_env, "").split(",") if value.strip()]
        if not values:
            problems.append(f"{webhook.secret_env} is not set: webhook '{webhook.name}' needs its HMAC secret there")
        elif any(len(value) < MIN_SECRET_CHARS for value in values):
            problems.append(f"{webhook.secret_env}: each secret must be at least {MIN_SECRET_CHARS} characters "
                            f"(webhook '{webhook.name}')")
        secrets[webhook.name] = [value.encode() for value in values]
    if problems:
        raise ConfigError(problems)
    return secrets


class WebhookVerifier:
    """`sources`: webhook name -> its secrets (usually one; two while rotating)."""

    def __init__(self, sources: Mapping[str, Sequence[bytes]], *, max_skew_s: float = DEFAULT_MAX_SKEW_S,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.sources = {name: tuple(secrets) for name, secrets in sources.items()}
        self.max_skew_s = max_skew_s
        self.max_body_bytes = max_body_bytes

    def known(self, name: str) -> bool:
        return name in self.sources

    def verify(self, name: str, body: bytes, headers: Mapping[str, str], now: datetime) -> Received:
        """`headers`: looked up by lowercase name (Starlette's Headers ignore case)."""
        secrets = self.sources.get(name)
        if secrets is None:
            raise WebhookRefused(WebhookRefused.UNKNOWN_SOURCE, "no webhook of this name is configured")
        if len(body) > self.max_body_bytes:
            raise WebhookRefused(WebhookRefused.TOO_LARGE, f"body is larger than {self.max_body_bytes} bytes")
        timestamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise WebhookRefused(WebhookRefused.UNSIGNED, "X-Opsgate-Timestamp and X-Opsgate-Signature are required")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise WebhookRefused(WebhookRefused.UNSIGNED, "X-Opsgate-Timestamp must be unix seconds")
        if abs(now.timestamp() - int(timestamp)) > self.max_skew_s:
            raise WebhookRefused(WebhookRefused.STALE, f"X-Opsgate-Timestamp is more than {self.max_skew_s:.0f} s from now")
        if not _SIGNATURE.fullmatch(signature):
            raise WebhookRefused(WebhookRefused.BAD_SIGNATURE, "X-Opsgate-Signature must be sha256=<64 hex digits>")
        # Every secret is compared (no early exit), each in constant time.
        matches = [hmac.compare_digest(sign(secret, timestamp, body), signature) for secret in secrets]
        if not any(matches):
            raise WebhookRefused(WebhookRefused.BAD_SIGNATURE, "signature does not match the body and timestamp")
        try:
            data = json_object(body)
        except NotAJsonObject as problem:
            raise WebhookRefused(WebhookRefused.MALFORMED, str(problem)) from None
        return Received(source=SOURCE_PREFIX + name, external_id=_delivery_id(headers, body), body=data)


def _delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    given = headers.get(DELIVERY_HEADER)
    if given is None:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    if not _DELIVERY_ID.fullmatch(given):
        raise WebhookRefused(WebhookRefused.MALFORMED, "X-Opsgate-Delivery must be 1-200 printable characters without spaces")
    return given

