from __future__ import annotations

from datetime import timedelta

from opsgate.domain.request import ApprovalRecord, RequestRecord, State
from opsgate.policy import check_approval
from tests.factories import NOW, catalog

CAT = catalog()


def pending(**changes) -> RequestRecord:
    base = dict(id="r-aaaaaaaa", command="restart", params={"service": "web", "env": "prod"}, environment="prod",
                requester_id="alice", requester_name="Alice", platform="console", channel="console",
                state=State.AWAITING_APPROVAL, binding="h", created_at=NOW, updated_at=NOW, approvals_required=1,
                approver_roles=("sre",), expires_at=NOW + timedelta(hours=1))
    base.update(changes)
    return RequestRecord(**base)


def test_another_person_in_an_approver_role_may_approve():
    check = check_approval(pending(), CAT.person("carol"), [], NOW)
    assert (check.passed, check.rule) == (True, "approval.granted")


def test_nobody_approves_their_own_request():
    check = check_approval(pending(requester_id="carol"), CAT.person("carol"), [], NOW)
    assert (check.passed, check.rule) == (False, "approval.self")


def test_approver_role_is_checked_at_approval_time():
    check = check_approval(pending(requester_id="carol"), CAT.person("alice"), [], NOW)
    assert (check.passed, check.rule) == (False, "approval.role")


def test_expired_request_cannot_be_approved():
    check = check_approval(pending(), CAT.person("carol"), [], NOW + timedelta(hours=1))
    assert (check.passed, check.rule) == (False, "approval.expired")


def test_the_same_person_cannot_approve_twice():
    earlier = [ApprovalRecord("r-aaaaaaaa", "carol", "Carol", "h", "sre", NOW)]
    check = check_approval(pending(approvals_required=2), CAT.person("carol"), earlier, NOW)
    assert (check.passed, check.rule) == (False, "approval.duplicate")


def test_only_requests_awaiting_approval_can_be_approved():
    check = check_approval(pending(state=State.SUCCEEDED), CAT.person("carol"), [], NOW)
    assert (check.passed, check.rule) == (False, "approval.state")
