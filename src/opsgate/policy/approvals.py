"""Who may approve a request, checked at the moment of approval."""

from __future__ import annotations

from datetime import datetime

from opsgate.domain.decision import Check
from opsgate.domain.identity import Person
from opsgate.domain.request import ApprovalRecord, RequestRecord, State


def check_approval(
    request: RequestRecord, approver: Person, approvals: list[ApprovalRecord], now: datetime
) -> Check:
    """The first rule that refuses this approval, or a passing check naming the entitling role."""
    if request.state is not State.AWAITING_APPROVAL:
        return Check("approval.state", False, f"{request.id} is {request.state.value.replace('_', ' ')}, not awaiting approval")
    if request.expires_at is not None and now >= request.expires_at:
        return Check("approval.expired", False, f"the approval window for {request.id} has closed")
    if approver.id == request.requester_id:
        return Check("approval.self", False, "nobody approves their own request; ask another approver")
    if any(a.approver_id == approver.id for a in approvals):
        return Check("approval.duplicate", False, f"you already approved {request.id}")
    entitling = sorted(approver.roles.intersection(request.approver_roles))
    if not entitling:
        return Check("approval.role", False,
                     f"{request.id} needs approval by one of: {', '.join(request.approver_roles) or 'nobody'}")
    return Check("approval.granted", True, f"approved as {entitling[0]}")
