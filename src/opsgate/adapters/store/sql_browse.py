"""Read-only queries for the pages and /metrics: the audit log and requests page by page, counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables import audit_log, outbox, requests
from opsgate.domain.audit import SealedRecord, format_ts
from opsgate.domain.request import RequestRecord, State
from opsgate.ports import AuditQuery, RequestQuery

MAX_PAGE_ROWS = 1_000


class SqlBrowse:
    """The BrowseTransaction port; mixed into SqlTransaction (uses its connection)."""

    _conn: Connection

    def audit_page(self, query: AuditQuery, *, before_seq: int | None = None, after_seq: int | None = None,
                   limit: int = 50) -> list[SealedRecord]:
        statement = sa.select(audit_log.c.seq, audit_log.c.body, audit_log.c.hash).where(*_audit_filters(query))
        limit = max(1, min(limit, MAX_PAGE_ROWS))
        if after_seq is not None:  # the page above: read upwards, then show newest first
            statement = statement.where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq).limit(limit)
            rows = list(self._conn.execute(statement))[::-1]
        else:
            if before_seq is not None:
                statement = statement.where(audit_log.c.seq < before_seq)
            rows = list(self._conn.execute(statement.order_by(audit_log.c.seq.desc()).limit(limit)))
        return [SealedRecord(seq, body, hash_) for seq, body, hash_ in rows]

    def request_page(self, query: RequestQuery, *, offset: int = 0, limit: int = 50) -> list[RequestRecord]:
        from opsgate.adapters.store.sql_store import _request_from_row  # one row → record mapping

        statement = sa.select(requests).order_by(requests.c.created_at.desc(), requests.c.id)
        if query.states:
            statement = statement.where(requests.c.state.in_([state.value for state in query.states]))
        for column, value in ((requests.c.requester_id, query.requester_id), (requests.c.command, query.command),
                              (requests.c.environment, query.environment)):
            if value is not None:
                statement = statement.where(column == value)
        statement = statement.offset(max(0, offset)).limit(max(1, min(limit, MAX_PAGE_ROWS)))
        return [_request_from_row(row) for row in self._conn.execute(statement)]

    def request_counts(self, states: tuple[State, ...]) -> dict[tuple[str, str], int]:
        statement = (sa.select(requests.c.command, requests.c.state, sa.func.count())
                     .where(requests.c.state.in_([s.value for s in states]))
                     .group_by(requests.c.command, requests.c.state))
        return {(command, state): count for command, state, count in self._conn.execute(statement)}

    def outbox_counts(self) -> dict[tuple[str, str], int]:
        statement = sa.select(outbox.c.platform, outbox.c.state, sa.func.count()).group_by(outbox.c.platform, outbox.c.state)
        return {(platform, state): count for platform, state, count in self._conn.execute(statement)}


def _audit_filters(query: AuditQuery) -> list[Any]:
    filters: list[Any] = []
    for column, value in ((audit_log.c.actor_id, query.person), (audit_log.c.command, query.command),
                          (audit_log.c.environment, query.environment), (audit_log.c.outcome, query.outcome),
                          (audit_log.c.event, query.event), (audit_log.c.request_id, query.request_id)):
        if value is not None:
            filters.append(column == value)
    if query.since is not None:
        filters.append(audit_log.c.ts >= format_ts(query.since))
    if query.until is not None:
        filters.append(audit_log.c.ts < format_ts(query.until))
    return filters
