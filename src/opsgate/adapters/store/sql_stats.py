"""The value numbers' queries: requests by command, person and state; waits for approvals."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables import approvals, requests


class SqlStats:
    """The StatsTransaction port; mixed into SqlTransaction (uses its connection)."""

    _conn: Connection

    def request_use(self, since: datetime, until: datetime) -> list[tuple[str, str, str, int]]:
        query = (
            sa.select(requests.c.command, requests.c.requester_id, requests.c.state, sa.func.count())
            .where(requests.c.created_at >= since, requests.c.created_at < until)
            .group_by(requests.c.command, requests.c.requester_id, requests.c.state)
            .order_by(requests.c.command, requests.c.requester_id, requests.c.state)
        )
        return [(command, person, state, count) for command, person, state, count in self._conn.execute(query)]

    def approval_waits_s(self, since: datetime, until: datetime) -> list[float]:
        # A request is approved by the approval that completes its count: the last one, once there
        # are as many as it needs (fewer: it is still waiting, or was refused, and has no such time).
        approved_at = sa.func.max(approvals.c.at)  # keeps the column's type: UTC-aware on both databases
        query = (
            sa.select(requests.c.created_at, approved_at)
            .join(approvals, approvals.c.request_id == requests.c.id)
            .where(requests.c.approvals_required > 0)
            .group_by(requests.c.id, requests.c.created_at, requests.c.approvals_required)
            .having(sa.func.count(approvals.c.approver_id) >= requests.c.approvals_required)
            .having(approved_at >= since)
            .having(approved_at < until)
            .order_by(approved_at)
        )
        return [max(0.0, (approved - created).total_seconds()) for created, approved in self._conn.execute(query)]

