"""What a signed-in person may see: the rules chat uses, applied to pages.

Everyone with a role sees the overview, locks and freezes. The audit log and everyone's requests
need the `audit` permission (as `audit` in chat does); without it a person sees their own records
and requests, and the requests they are asked to approve.
"""

from __future__ import annotations

from opsgate.domain.request import ApprovalRecord, RequestRecord
from opsgate.web.auth import Viewer

AUDIT_PERMISSION = "audit"


def reads_all(viewer: Viewer) -> bool:
    return AUDIT_PERMISSION in viewer.person.permissions


def may_see_request(viewer: Viewer, record: RequestRecord, approvals: list[ApprovalRecord] = ()) -> bool:
    person = viewer.person
    return (reads_all(viewer) or record.requester_id == person.id or person.has_role(record.approver_roles)
            or any(a.approver_id == person.id for a in approvals))


def audit_person(viewer: Viewer, asked: str | None) -> str | None:
    """The person filter the audit log may use: any (or all) with the permission, else only one's own."""
    return asked if reads_all(viewer) else viewer.person.id
