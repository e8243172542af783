"""Requests and audit records as pages show them: secret parameters never leave the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsgate.core.render import params_text, shown_params
from opsgate.domain.audit import REDACTED, SealedRecord
from opsgate.domain.catalog import Command
from opsgate.domain.request import RequestRecord, State

CommandOf = Callable[[str], Command | None]


def safe_params(command_of: CommandOf, record: RequestRecord) -> dict[str, Any]:
    """Shown parameters; a command opsgate no longer knows shows no values at all (it cannot tell
    which were secret)."""
    command = command_of(record.command)
    if command is None:
        return {name: REDACTED for name in record.params}
    return shown_params(command, record.params)


@dataclass(frozen=True)
class RequestRow:
    id: str
    command: str
    params: str
    environment: str | None
    requester: str
    requester_id: str
    state: State
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    dry_run: bool
    break_glass: bool
    waiting_for: str  # "1 approval from sre, release-manager" while awaiting approval


def request_row(command_of: CommandOf, record: RequestRecord) -> RequestRow:
    waiting = ""
    if record.state is State.AWAITING_APPROVAL:
        waiting = f"{record.approvals_required} approval(s) from {', '.join(record.approver_roles)}"
    elif record.state is State.AWAITING_CONFIRMATION:
        waiting = "the requester's typed confirmation"
    return RequestRow(
        id=record.id, command=record.command, params=params_text(safe_params(command_of, record)),
        environment=record.environment, requester=record.requester_name, requester_id=record.requester_id,
        state=record.state, created_at=record.created_at, updated_at=record.updated_at, expires_at=record.expires_at,
        dry_run=record.dry_run, break_glass=bool(record.break_glass_reason), waiting_for=waiting,
    )


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts: str
    event: str
    actor: str  # the catalog person, else platform:id
    actor_name: str
    request_id: str | None
    command: str | None
    params: str
    environment: str | None
    decision: str | None
    rule: str | None
    reason: str | None
    outcome: str | None
    error: str | None
    approvers: tuple[str, ...]
    links: tuple[str, ...]
    correlation: dict[str, Any]
    break_glass: bool
    hash: str


def audit_row(record: SealedRecord) -> AuditRow:
    f = record.fields()
    actor = f.get("actor") or {}
    return AuditRow(
        seq=record.seq, ts=f.get("ts", ""), event=f.get("event", ""),
        actor=actor.get("person") or f"{actor.get('platform')}:{actor.get('id')}", actor_name=actor.get("name") or "",
        request_id=f.get("request_id"), command=f.get("command"), params=params_text(f.get("params") or {}),
        environment=f.get("environment"), decision=f.get("decision"), rule=f.get("rule"), reason=f.get("reason"),
        outcome=f.get("outcome"), error=f.get("error"), approvers=tuple(f.get("approvers") or ()),
        links=tuple(f.get("links") or ()), correlation=dict(f.get("correlation") or {}),
        break_glass=bool(f.get("break_glass")), hash=record.hash,
    )
