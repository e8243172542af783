"""Audit records and their hash chain.

Each record's `hash` is SHA-256 over its canonical JSON (sorted keys, no spaces, UTF-8), which
includes `seq` and `prev_hash`; so changing, removing or reordering any record breaks the chain
from that record on. The canonical JSON text is stored verbatim: a verifier needs nothing but it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

GENESIS_HASH = "0" * 64
REDACTED = "[redacted]"

# Columns the store keeps beside the JSON body for filtering; they must agree with the body.
INDEXED_FIELDS = ("ts", "request_id", "actor_id", "command", "environment", "event", "outcome")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What a component asks to have audited; the store adds seq, time and hashes."""

    event: str  # "request.decided", "approval.granted", "execution.succeeded", "lock.taken", ...
    actor_platform: str
    actor_id: str
    actor_name: str = ""
    person_id: str | None = None  # catalog person, when the sender is known
    request_id: str | None = None
    command: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # already redacted
    environment: str | None = None
    target: str | None = None
    decision: str | None = None
    rule: str | None = None
    reason: str | None = None
    approvers: tuple[str, ...] = ()
    outcome: str | None = None
    error: str | None = None
    links: tuple[str, ...] = ()
    correlation: dict[str, str] = field(default_factory=dict)
    break_glass: bool = False

    def body(self, seq: int, ts: datetime, prev_hash: str) -> dict[str, Any]:
        return {
            "seq": seq,
            "ts": format_ts(ts),
            "event": self.event,
            "actor": {
                "platform": self.actor_platform,
                "id": self.actor_id,
                "name": self.actor_name,
                "person": self.person_id,
            },
            "request_id": self.request_id,
            "command": self.command,
            "params": self.params,
            "environment": self.environment,
            "target": self.target,
            "decision": self.decision,
            "rule": self.rule,
            "reason": self.reason,
            "approvers": list(self.approvers),
            "outcome": self.outcome,
            "error": self.error,
            "links": list(self.links),
            "correlation": self.correlation,
            "break_glass": self.break_glass,
            "prev_hash": prev_hash,
        }


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """A record as stored: canonical JSON text and its hash."""

    seq: int
    body: bytes
    hash: str

    def fields(self) -> dict[str, Any]:
        return orjson.loads(self.body)


def format_ts(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def seal(entry: AuditEntry, seq: int, ts: datetime, prev_hash: str) -> SealedRecord:
    body = canonical(entry.body(seq, ts, prev_hash))
    return SealedRecord(seq=seq, body=body, hash=hashlib.sha256(body).hexdigest())


def indexed_values(fields: dict[str, Any]) -> tuple[Any, ...]:
    """The INDEXED_FIELDS values of a record body, in order."""
    return (
        fields.get("ts"),
        fields.get("request_id"),
        _actor_key(fields.get("actor") or {}),
        fields.get("command"),
        fields.get("environment"),
        fields.get("event"),
        fields.get("outcome"),
    )


def _actor_key(actor: dict[str, Any]) -> str | None:
    """The indexed actor: the catalog person when known, else platform:id."""
    if actor.get("person"):
        return actor["person"]
    return f"{actor.get('platform')}:{actor.get('id')}" if actor.get("id") else None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS_HASH


def verify_chain(rows: Iterable[tuple[int, bytes, str, tuple[Any, ...]]]) -> VerifyResult:
    """Check (seq, body, hash, indexed column values) rows in seq order.

    Fails on the first record whose hash does not match its body, whose prev_hash is not the
    previous record's hash, whose seq is out of order, or whose indexed columns disagree with
    its body (a row edited in the database).
    """
    sha256 = hashlib.sha256
    loads = orjson.loads
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for seq, body, stored_hash, columns in rows:
        if not isinstance(body, bytes):  # a body rewritten by hand may come back as text
            body = body.encode() if isinstance(body, str) else bytes(body)
        if seq != expected_seq:
            return VerifyResult(False, checked, seq, f"sequence gap: expected {expected_seq}, found {seq}", prev)
        if sha256(body).hexdigest() != stored_hash:
            return VerifyResult(False, checked, seq, "hash does not match the record's contents", prev)
        fields = loads(body)
        if fields.get("prev_hash") != prev:
            return VerifyResult(False, checked, seq, "prev_hash does not match the previous record", prev)
        if fields.get("seq") != seq or indexed_values(fields) != columns:
            return VerifyResult(False, checked, seq, "indexed columns differ from the hashed record", prev)
        prev, expected_seq, checked = stored_hash, seq + 1, checked + 1
    return VerifyResult(True, checked, head_hash=prev)


def redact(params: dict[str, Any], secret_names: Iterable[str]) -> dict[str, Any]:
    secrets = set(secret_names)
    return {k: (REDACTED if k in secrets else v) for k, v in params.items()}
