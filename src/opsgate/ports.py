"""The contracts the core needs from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from opsgate.domain.audit import AuditEntry, SealedRecord, VerifyResult
from opsgate.domain.catalog import ActionSpec, Environment
from opsgate.domain.lock import Lock
from opsgate.domain.message import Message
from opsgate.domain.request import ApprovalRecord, RequestRecord, State


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message waiting to be sent to a chat platform. `payload` is the adapter's own JSON.

    Items with the same `order_key` (a request id, or a channel) are sent one after the other in
    the order they were added: an update is never sent before the message it updates.
    """

    platform: str
    order_key: str
    payload: dict[str, Any]
    id: int = 0  # set by the store
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where the chat message about one request is, so later news updates it in place."""

    channel: str
    ts: str  # the platform's message id (Slack: the message timestamp)


class Transaction(Protocol):
    """One database transaction. Everything written through it commits or rolls back together."""

    def claim_inbound(self, key: str, now: datetime) -> bool:
        """Record an idempotency key; False if it was seen before (the caller runs nothing)."""
        ...

    def inbound_reply(self, key: str) -> tuple[str | None, str | None]:
        """(reply text, request id) stored for a key seen before."""
        ...

    def save_inbound_reply(self, key: str, reply: str, request_id: str | None) -> None: ...

    def insert_request(self, record: RequestRecord) -> None: ...

    def get_request(self, request_id: str, *, for_update: bool = False) -> RequestRecord | None: ...

    def update_request(self, record: RequestRecord, *, expected_state: State) -> None:
        """Write `record` only if the stored state is still `expected_state`; else ConflictError."""
        ...

    def list_requests(
        self, *, states: tuple[State, ...] = (), requester_id: str | None = None, limit: int = 20
    ) -> list[RequestRecord]: ...

    def expiring_requests(self, now: datetime) -> list[RequestRecord]:
        """Pending requests whose `expires_at` has passed."""
        ...

    def count_requests(self, requester_id: str, command: str, since: datetime) -> int: ...

    def add_approval(self, approval: ApprovalRecord) -> None:
        """ConflictError if this person already approved this request."""
        ...

    def approvals(self, request_id: str) -> list[ApprovalRecord]: ...

    def append_audit(self, entry: AuditEntry, now: datetime) -> SealedRecord: ...

    def recent_audit(
        self, *, limit: int = 20, actor_id: str | None = None, request_id: str | None = None
    ) -> list[SealedRecord]: ...

    def active_lock(self, environment: str, now: datetime) -> Lock | None: ...

    def active_locks(self, now: datetime) -> list[Lock]: ...

    def put_lock(self, lock: Lock, now: datetime) -> None:
        """Take or renew; ConflictError if another person holds an active lock."""
        ...

    def delete_lock(self, environment: str) -> None: ...

    # -- chat outbox (durable delivery) and message refs ------------------------------------------

    def outbox_add(self, item: OutboxItem, now: datetime) -> int:
        """Queue an item, due now. Returns its id."""
        ...

    def outbox_due(self, platform: str, now: datetime, *, limit: int, lease_s: float) -> list[OutboxItem]:
        """Claim up to `limit` due items, oldest first, at most one per order key (the oldest unsent
        one of its key). Claimed items are leased for `lease_s`: no other caller, in this process
        or another replica, gets them until the lease runs out (rows are locked SKIP LOCKED)."""
        ...

    def outbox_done(self, item_id: int) -> None:
        """The item was sent: it is removed."""
        ...

    def outbox_retry_at(self, item_id: int, due: datetime, error: str) -> None:
        """Sending failed for now (rate limit, outage): try again at `due`; counts an attempt."""
        ...

    def outbox_give_up(self, item_id: int, error: str) -> None:
        """Sending can never succeed (channel gone, not allowed): kept for operators, never sent;
        later items of its order key go on."""
        ...

    def outbox_pending(self, platform: str) -> int:
        """How many items are waiting (not given up)."""
        ...

    def message_ref_get(self, platform: str, request_id: str) -> MessageRef | None: ...

    def message_ref_put(self, platform: str, request_id: str, ref: MessageRef, now: datetime) -> None:
        """Remember (or move) the message about a request."""
        ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def verify_audit(self) -> VerifyResult: ...

    def iter_audit(
        self, *, since: datetime | None = None, until: datetime | None = None, after_seq: int = 0
    ) -> Iterator[SealedRecord]: ...


class Directory(Protocol):
    """Group memberships from the chat platform (Slack user groups), cached by the adapter."""

    def group_ids(self, platform: str, user_id: str) -> frozenset[str]: ...


class Chat(Protocol):
    """Where notifications go (approval requests, outcomes). Replies go back through the adapter."""

    def post(self, message: Message) -> None: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    request_id: str
    person_id: str
    environment: Environment | None
    dry_run: bool = False
    approvers: tuple[str, ...] = ()  # person ids that approved, for outputs that name them


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One call an action makes (or would make, in a dry run)."""

    api: str  # "lambda:Invoke", "builtin:echo"
    target: str  # ARN or name
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    ok: bool
    summary: str  # safe to show in chat
    output: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, str] = field(default_factory=dict)  # AWS request id, execution ARN
    # Long-running automation (a Step Functions execution, an SSM runbook, an ECS roll-out) returns
    # pending=True with a checkpoint; opsgate calls poll() with that checkpoint until it is done.
    pending: bool = False
    checkpoint: dict[str, Any] = field(default_factory=dict)
    progress: tuple[str, ...] = ()  # new progress lines since the last call, safe to show in chat


class Automation(Protocol):
    """Runs a command's action. Implementations translate their own errors to AutomationError."""

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]: ...

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult: ...

    def poll(
        self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]
    ) -> RunResult:
        """Check on a pending run; returns pending=True again while it is not finished."""
        ...
