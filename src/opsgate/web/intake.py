"""POST /events/sns and POST /events/webhook/<name>: verify, store, answer (docs/intake.md).

The event loop reads the body and checks it (an HMAC, or an RSA signature with a cached
certificate: CPU work of well under a millisecond); a certificate fetch and the subscription GET
run in the thread pool, and the database write in the recorder's committer thread, which the
loop awaits without holding a thread. Every answer is a short JSON object; a
refusal names its reason, is logged and counted. Statuses follow what the sender does with them:
SNS retries 5xx and gives up on 4xx, so only "not now" answers are 5xx (certificate server or
database unavailable) and a retry of a message already stored is a 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opsgate.adapters.intake.recorder import EventRecorder, Received
from opsgate.adapters.intake.sns import (
    NOTIFICATION,
    SUBSCRIPTION_CONFIRMATION,
    UNSUBSCRIBE_CONFIRMATION,
    SnsMessage,
    SnsRefused,
    SnsVerifier,
)
from opsgate.adapters.intake.sns_certificates import CertificateNotCached
from opsgate.adapters.intake.subscription import SubscriptionConfirmer, SubscriptionFailed, SubscriptionRefused
from opsgate.adapters.intake.webhook import SOURCE_PREFIX, WebhookRefused, WebhookVerifier
from opsgate.domain.audit import AuditEntry
from opsgate.metrics import INTAKE_EVENTS, SNS_SUBSCRIPTIONS
from opsgate.ports import Clock, Store

log = logging.getLogger("opsgate.intake")

SNS_PATH = "/events/sns"
WEBHOOK_PATH = "/events/webhook/{source}"
INTAKE_PREFIX = "/events/"

# Only failures that are not the message's fault are 5xx: SNS retries those, and drops on 4xx.
SNS_STATUS = {SnsRefused.TOO_LARGE: 413, SnsRefused.MALFORMED: 400, SnsRefused.CERT_UNAVAILABLE: 503}
SNS_REFUSED_STATUS = 403  # forged_signature, bad_cert_url, unknown_topic, stale
UNAVAILABLE = "unavailable"  # the database (or the audit log) could not be written: retry later
# Which counter a refusal goes to, by the type the request claims (a header: one of a fixed set).
_SUBSCRIPTION_KINDS = {SUBSCRIPTION_CONFIRMATION: "subscribe", UNSUBSCRIBE_CONFIRMATION: "unsubscribe"}

Answer = tuple[int, dict[str, Any]]


async def read_body(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it grows past `max_bytes` (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(status: int, reason: str, detail: str) -> Answer:
    return status, {"ok": False, "error": reason, "detail": detail[:300]}


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


class SnsIntake:
    """Notifications are stored (source "sns", keyed by MessageId); subscription confirmations for
    configured topics are confirmed and audited; unsubscribe confirmations are acknowledged."""

    def __init__(self, verifier: SnsVerifier, confirmer: SubscriptionConfirmer, recorder: EventRecorder,
                 store: Store, clock: Clock) -> None:
        self.verifier = verifier
        self.confirmer = confirmer
        self.recorder = recorder
        self.store = store
        self.clock = clock

    async def endpoint(self, request: Request) -> Response:
        header = request.headers.get("x-amz-sns-message-type")
        body = await read_body(request, self.verifier.max_body_bytes)
        if body is None:
            status, answer = self._refused(SnsRefused(SnsRefused.TOO_LARGE, f"body is larger than "
                                                      f"{self.verifier.max_body_bytes} bytes"), header, _peer(request))
        else:
            status, answer = await self.handle(body, header, _peer(request))
        return JSONResponse(answer, status_code=status)

    async def handle(self, body: bytes, header_type: str | None, peer: str = "") -> Answer:
        now = self.clock.now()
        try:
            try:  # with the certificate cached, checking is CPU work for the loop: no thread hand-off
                message = self.verifier.verify(body, header_type, now, fetch=False)
            except CertificateNotCached:
                message = await asyncio.to_thread(self.verifier.verify, body, header_type, now)
        except SnsRefused as refused:
            return self._refused(refused, header_type, peer)
        if message.type == NOTIFICATION:
            try:
                stored = await asyncio.wrap_future(self.recorder.submit(Received("sns", message.message_id, message.raw)))
            except Exception:  # database away: SNS delivers again later (nothing was stored)
                return self._unavailable(message)
            return 200, {"ok": True, "stored": stored, **({} if stored else {"duplicate": True})}
        return await asyncio.to_thread(self._control, message)

    def _control(self, message: SnsMessage) -> Answer:
        """A subscription or unsubscribe confirmation: rare, and may call SNS (in a thread)."""
        try:
            if message.type == SUBSCRIPTION_CONFIRMATION:
                return self._subscribe(message)
        except Exception:  # the audit could not be written: SNS sends the confirmation again
            return self._unavailable(message)
        # UnsubscribeConfirmation: opsgate does not act on it (the subscription is already gone).
        SNS_SUBSCRIPTIONS.labels("unsubscribe", "acknowledged").inc()
        log.info("SNS unsubscribe confirmation acknowledged", extra={"topic": message.topic_arn})
        return 200, {"ok": True}

    @staticmethod
    def _unavailable(message: SnsMessage) -> Answer:
        log.exception("storing an SNS delivery failed", extra={"message_id": message.message_id[:100]})
        INTAKE_EVENTS.labels("sns", UNAVAILABLE).inc()
        return _refusal(503, UNAVAILABLE, "could not be stored now; deliver again later")

    def _subscribe(self, message: SnsMessage) -> Answer:
        try:
            subscription = self.confirmer.confirm(message)
        except SubscriptionRefused as refused:
            SNS_SUBSCRIPTIONS.labels("subscribe", "bad_subscribe_url").inc()
            log.warning("SNS subscription refused", extra={"topic": message.topic_arn, "detail": str(refused)})
            return _refusal(SNS_REFUSED_STATUS, "bad_subscribe_url", str(refused))
        except SubscriptionFailed as failed:
            SNS_SUBSCRIPTIONS.labels("subscribe", "confirm_failed").inc()
            log.warning("SNS subscription could not be confirmed", extra={"topic": message.topic_arn, "detail": str(failed)})
            return _refusal(503, "confirm_failed", "the subscription could not be confirmed now; send it again")
        # Confirmed: audited (an unaudited subscription is answered 503, so SNS sends it again).
        with self.store.transaction() as tx:
            tx.append_audit(AuditEntry(
                event="intake.subscribed", actor_platform="sns", actor_id=message.topic_arn, target=message.topic_arn,
                decision="allow", rule="intake.sns.topics", outcome="confirmed",
                correlation={"message_id": message.message_id[:100], "subscription_arn": subscription},
            ), self.clock.now())
        SNS_SUBSCRIPTIONS.labels("subscribe", "confirmed").inc()
        log.info("SNS subscription confirmed", extra={"topic": message.topic_arn, "subscription": subscription})
        return 200, {"ok": True, "subscribed": True}

    def _refused(self, refused: SnsRefused, header_type: str | None, peer: str) -> Answer:
        kind = _SUBSCRIPTION_KINDS.get(header_type or "")
        if kind is None:
            INTAKE_EVENTS.labels("sns", refused.reason).inc()
        else:
            SNS_SUBSCRIPTIONS.labels(kind, refused.reason).inc()
        log.warning("SNS delivery refused", extra={"reason": refused.reason, "detail": refused.detail[:300],
                                                   "type": kind or "notification", "peer": peer})
        if refused.reason == SnsRefused.REPLAYED:  # seen before: the sender should stop retrying
            return 200, {"ok": True, "stored": False, "duplicate": True}
        return _refusal(SNS_STATUS.get(refused.reason, SNS_REFUSED_STATUS), refused.reason, refused.detail)


class WebhookIntake:
    """Signed JSON from configured senders, stored with source webhook:<name>."""

    def __init__(self, verifier: WebhookVerifier, recorder: EventRecorder, clock: Clock) -> None:
        self.verifier = verifier
        self.recorder = recorder
        self.clock = clock

    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["source"]
        if not self.verifier.known(name):  # nothing read, and the name never becomes a label
            status, answer = self._refused(WebhookRefused(WebhookRefused.UNKNOWN_SOURCE,
                                                          "no webhook of this name is configured"), "webhook", _peer(request))
            return JSONResponse(answer, status_code=status)
        body = await read_body(request, self.verifier.max_body_bytes)
        if body is None:
            refused = WebhookRefused(WebhookRefused.TOO_LARGE, f"body is larger than {self.verifier.max_body_bytes} bytes")
            status, answer = self._refused(refused, SOURCE_PREFIX + name, _peer(request))
        else:
            status, answer = await self.handle(name, body, request.headers, _peer(request))
        return JSONResponse(answer, status_code=status)

    async def handle(self, name: str, body: bytes, headers: Mapping[str, str], peer: str = "") -> Answer:
        """`headers`: looked up by lowercase name. Checking the HMAC is quick CPU work: on the loop."""
        source = SOURCE_PREFIX + name
        try:
            event = self.verifier.verify(name, body, headers, self.clock.now())
        except WebhookRefused as refused:
            return self._refused(refused, source, peer)
        try:
            stored = await asyncio.wrap_future(self.recorder.submit(event))
        except Exception:  # database away: the sender may deliver again (nothing was stored)
            log.exception("storing a webhook delivery failed", extra={"source": source})
            INTAKE_EVENTS.labels(source, UNAVAILABLE).inc()
            return _refusal(503, UNAVAILABLE, "could not be stored now; deliver again later")
        return 200, {"ok": True, "stored": stored, **({} if stored else {"duplicate": True})}

    @staticmethod
    def _refused(refused: WebhookRefused, source: str, peer: str) -> Answer:
        INTAKE_EVENTS.labels(source, refused.reason).inc()
        log.warning("webhook delivery refused", extra={"source": source, "reason": refused.reason,
                                                       "detail": refused.detail, "peer": peer})
        return _refusal(refused.status, refused.reason, refused.detail)


@dataclass
class IntakeWeb:
    sns: SnsIntake
    webhooks: WebhookIntake
    # For WebParts: the endpoints read bodies with their own limits, and count what they refuse.
    body_limits: dict[str, int | None] = field(default_factory=lambda: {INTAKE_PREFIX: None})

    @property
    def routes(self) -> list[Route]:
        return [Route(SNS_PATH, self.sns.endpoint, methods=["POST"]),
                Route(WEBHOOK_PATH, self.webhooks.endpoint, methods=["POST"])]
