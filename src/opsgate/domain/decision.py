"""What the policy decides about a request, and the trail of checks that led there."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class DecisionKind(str, Enum):
    ALLOW = "allow"
    DENY = "deny"
    BLOCKED = "blocked"  # by a freeze or a lock: allowed in principle, not now
    CONFIRM = "confirm"  # typed confirmation first (approval may follow)
    APPROVE = "approve"  # needs approvals by other people


@dataclass(frozen=True, slots=True)
class Check:
    """One rule the policy looked at: its id, whether it passed, and why."""

    rule: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    rule: str  # id of the rule that decided, e.g. "rbac.command", "approval.protected-env"
    reason: str
    checks: tuple[Check, ...] = ()
    confirm_text: str | None = None  # what the person must type
    approvals_required: int = 0
    approver_roles: tuple[str, ...] = ()
    approval_ttl_s: int = 0
    break_glass: bool = False

    @property
    def refused(self) -> bool:
        return self.kind in (DecisionKind.DENY, DecisionKind.BLOCKED)
