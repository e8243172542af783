"""A request and its lifecycle state machine."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

import orjson


class State(str, Enum):
    RECEIVED = "received"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def pending(self) -> bool:
        return self in (State.AWAITING_CONFIRMATION, State.AWAITING_APPROVAL)


FINAL_STATES = frozenset({State.SUCCEEDED, State.FAILED, State.DENIED, State.EXPIRED, State.CANCELLED})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset(
        {State.AWAITING_CONFIRMATION, State.AWAITING_APPROVAL, State.APPROVED, State.DENIED}
    ),
    State.AWAITING_CONFIRMATION: frozenset(
        {State.AWAITING_APPROVAL, State.APPROVED, State.EXPIRED, State.CANCELLED, State.DENIED}
    ),
    State.AWAITING_APPROVAL: frozenset({State.APPROVED, State.DENIED, State.EXPIRED, State.CANCELLED}),
    State.APPROVED: frozenset({State.RUNNING, State.FAILED, State.CANCELLED}),
    State.RUNNING: frozenset({State.SUCCEEDED, State.FAILED}),
    State.SUCCEEDED: frozenset(),
    State.FAILED: frozenset(),
    State.DENIED: frozenset(),
    State.EXPIRED: frozenset(),
    State.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


def check_transition(current: State, target: State) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"a request cannot go from {current.value} to {target.value}")


# Crockford base32 without look-alikes: ids are read aloud and typed in chat.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_request_id() -> str:
    return "r-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def binding_hash(command: str, params: dict[str, Any], environment: str | None) -> str:
    """SHA-256 of the exact command, parameters and environment an approval is bound to."""
    body = orjson.dumps(
        {"command": command, "environment": environment, "params": params}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A persisted request. Parameters hold real values (secrets included) for execution only;
    everything shown or audited goes through `Command`-aware redaction first."""

    id: str
    command: str
    params: dict[str, Any]
    environment: str | None
    requester_id: str  # catalog person id, or "platform:user_id" for unknown senders
    requester_name: str
    platform: str
    channel: str
    state: State
    binding: str
    created_at: datetime
    updated_at: datetime
    link: str | None = None
    dry_run: bool = False
    break_glass_reason: str | None = None
    confirm_text: str | None = None
    approvals_required: int = 0
    approver_roles: tuple[str, ...] = ()
    expires_at: datetime | None = None
    decision_rule: str = ""
    thread: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def moved(self, state: State, now: datetime, **changes: Any) -> "RequestRecord":
        check_transition(self.state, state)
        return replace(self, state=state, updated_at=now, **changes)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    request_id: str
    approver_id: str
    approver_name: str
    binding: str  # must equal the request's binding when the request runs
    role: str  # the role that entitled the approver, checked at approval time
    at: datetime
