"""Alert groups, silences, acknowledgements, deployment summaries and counters (AlertsTransaction).

Grouping is serialised across replicas by `alerts_lock` (an advisory lock held to the end of the
transaction on PostgreSQL; SQLite's BEGIN IMMEDIATE already admits one writer at a time): event
processing and flushing read groups, change them and write them back under it, so two replicas can
never both post the same group's message.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables_events import events
from opsgate.adapters.store.tables_alerts import (
    alert_acks,
    alert_groups,
    deployments,
    group_alerts,
    notification_counters,
    silences,
)
from opsgate.domain.alert_groups import Acknowledgement, AlertMeta, DeploymentRecord, GroupState, StoredGroup
from opsgate.domain.alert_json import from_json, to_json
from opsgate.domain.alerts import Alert
from opsgate.domain.matchers import parse_matcher
from opsgate.domain.silences import Silence

# Any constant works, as long as every opsgate process uses the same one (not the migration's).
_GROUPING_LOCK = int.from_bytes(b"og-alert", "big")
_OUTCOME_CHARS = 2000
_GROUP_UPDATED = ("next_flush_at", "notified_firing", "last_notified_at", "ended_at")
_ALERT_UPDATED = ("status", "severity", "body", "occurred_at", "joined_at", "fired_at", "left_at", "acked_at", "acked_by", "acked_by_name")


class SqlAlerts:
    """The AlertsTransaction port; mixed into SqlTransaction (uses its connection and helpers)."""

    _conn: Connection
    _dialect_insert: Any

    def alerts_lock(self) -> None:
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_GROUPING_LOCK)))

    # -- events (the pipeline's side) ---------------------------------------------------------------

    def events_processed(self, outcomes: Mapping[str, Collection[int]], now: datetime) -> None:
        """`event_processed` for a whole batch: one statement per distinct outcome (most events of a
        batch share theirs), the first outcome recorded standing as there."""
        for outcome, ids in sorted(outcomes.items()):
            for chunk in _chunks(sorted(ids), 500):
                self._conn.execute(events.update().where(events.c.id.in_(chunk), events.c.processed_at.is_(None))
                                   .values(processed_at=now, outcome=outcome[:_OUTCOME_CHARS], leased_until=None))

    # -- groups -------------------------------------------------------------------------------------

    def alert_groups_open(self, scopes: Collection[tuple[str, str, str]], alert_keys: Collection[str]) -> list[StoredGroup]:
        g, a = alert_groups, group_alerts
        wanted = []
        if scopes:
            wanted.append(sa.tuple_(g.c.route, g.c.channel, g.c.group_key).in_(list(scopes)))
        if alert_keys:
            wanted.append(g.c.id.in_(sa.select(a.c.group_id).where(a.c.key.in_(list(alert_keys)), a.c.left_at.is_(None))))
        if not wanted:
            return []
        return self._groups(sa.select(alert_groups).where(g.c.ended_at.is_(None), sa.or_(*wanted)).order_by(g.c.id))

    def alert_groups_due(self, now: datetime, *, limit: int) -> list[StoredGroup]:
        g = alert_groups
        query = (sa.select(alert_groups).where(g.c.ended_at.is_(None), g.c.next_flush_at <= now)
                 .order_by(g.c.next_flush_at, g.c.id).limit(limit))
        return self._groups(query)

    def alert_groups_next_due_at(self) -> datetime | None:
        g = alert_groups
        return self._conn.execute(sa.select(sa.func.min(g.c.next_flush_at)).where(g.c.ended_at.is_(None))).scalar()

    def alert_group_get(self, short_id: str) -> StoredGroup | None:
        group_id = short_id
        if short_id.startswith("a-"):
            group_id = self._conn.execute(
                sa.select(group_alerts.c.group_id).where(group_alerts.c.id == short_id)).scalar() or ""
        found = self._groups(sa.select(alert_groups).where(alert_groups.c.id == group_id))
        return found[0] if found else None

    def alert_groups_recent(self, *, open_only: bool, limit: int) -> list[StoredGroup]:
        query = sa.select(alert_groups).order_by(alert_groups.c.created_at.desc(), alert_groups.c.id).limit(limit)
        if open_only:
            query = query.where(alert_groups.c.ended_at.is_(None))
        return self._groups(query)

    def alert_incarnations(self, scopes: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        if not scopes:
            return {}
        g = alert_groups
        query = (sa.select(g.c.route, g.c.channel, g.c.group_key, sa.func.max(g.c.incarnation))
                 .where(sa.tuple_(g.c.route, g.c.channel, g.c.group_key).in_(list(scopes)))
                 .group_by(g.c.route, g.c.channel, g.c.group_key))
        return {(route, channel, key): last for route, channel, key, last in self._conn.execute(query)}

    def alerts_last_seen(self, alert_keys: Collection[str]) -> dict[str, datetime]:
        a = group_alerts
        found: dict[str, datetime] = {}
        for chunk in _chunks(sorted(alert_keys), 500):
            query = sa.select(a.c.key, sa.func.max(a.c.occurred_at)).where(a.c.key.in_(chunk)).group_by(a.c.key)
            found.update({key: when for key, when in self._conn.execute(query)})
        return found

    def alert_group_save(self, group: StoredGroup, alert_keys: Collection[str], now: datetime) -> None:
        state = group.state
        upsert_group, upsert_alerts = _upserts(self._conn.dialect.name, self._dialect_insert)
        self._conn.execute(upsert_group, {
            "id": group.id, "route": group.route, "channel": group.channel, "group_key": state.key,
            "incarnation": state.incarnation, "labels": [list(pair) for pair in state.labels],
            "created_at": group.created_at, "next_flush_at": state.next_flush_at,
            "notified_firing": None if state.notified_firing is None else sorted(state.notified_firing),
            "last_notified_at": state.last_notified_at, "ended_at": group.ended_at,
        })
        present = [key for key in alert_keys if key in state.alerts]
        if present:
            self._conn.execute(upsert_alerts, [_alert_row(group.id, state.alerts[key], group.meta[key]) for key in present])
        gone = [key for key in alert_keys if key not in state.alerts]
        if gone:
            self._conn.execute(group_alerts.update().where(
                group_alerts.c.group_id == group.id, group_alerts.c.key.in_(gone), group_alerts.c.left_at.is_(None),
            ).values(left_at=now))

    def _groups(self, query: sa.Select[Any]) -> list[StoredGroup]:
        rows = list(self._conn.execute(query))
        if not rows:
            return []
        members: dict[str, list[Any]] = {row.id: [] for row in rows}
        alerts_query = (sa.select(group_alerts)
                        .where(group_alerts.c.group_id.in_(list(members)), group_alerts.c.left_at.is_(None))
                        .order_by(group_alerts.c.joined_at, group_alerts.c.id))
        for alert_row in self._conn.execute(alerts_query):
            members[alert_row.group_id].append(alert_row)
        return [_group_from_rows(row, members[row.id]) for row in rows]

    # -- acknowledgements ---------------------------------------------------------------------------

    def alerts_acknowledged(self, acks: Collection[Acknowledgement]) -> None:
        if acks:
            self._conn.execute(alert_acks.insert(), [
                {"group_id": ack.group_id, "alert_key": ack.alert_key, "fired_at": ack.fired_at,
                 "acked_at": ack.acked_at, "person_id": ack.person_id} for ack in acks])

    def ack_waits_s(self, since: datetime, until: datetime) -> list[float]:
        query = sa.select(alert_acks.c.fired_at, alert_acks.c.acked_at).where(
            alert_acks.c.acked_at >= since, alert_acks.c.acked_at < until).order_by(alert_acks.c.acked_at)
        return [max(0.0, (acked - fired).total_seconds()) for fired, acked in self._conn.execute(query)]

    # -- silences -----------------------------------------------------------------------------------

    def silence_add(self, silence: Silence) -> None:
        self._conn.execute(silences.insert().values(
            id=silence.id, matchers=[str(m) for m in silence.matchers], created_by=silence.created_by,
            created_by_name=silence.created_by_name, reason=silence.reason, created_at=silence.created_at,
            expires_at=silence.expires_at, ended_at=silence.ended_at, ended_by=silence.ended_by,
            silenced=silence.silenced))

    def silence_get(self, silence_id: str) -> Silence | None:
        row = self._conn.execute(sa.select(silences).where(silences.c.id == silence_id)).one_or_none()
        return None if row is None else _silence_from_row(row)

    def silences_active(self, now: datetime) -> list[Silence]:
        query = (sa.select(silences)
                 .where(silences.c.ended_at.is_(None), silences.c.created_at <= now, silences.c.expires_at > now)
                 .order_by(silences.c.expires_at, silences.c.id))
        return [_silence_from_row(row) for row in self._conn.execute(query)]

    def silence_end(self, silence_id: str, person_id: str, now: datetime) -> bool:
        ended = self._conn.execute(silences.update().where(
            silences.c.id == silence_id, silences.c.ended_at.is_(None), silences.c.expires_at > now,
        ).values(ended_at=now, ended_by=person_id))
        return ended.rowcount == 1

    def silences_counted(self, counts: dict[str, int]) -> None:
        for silence_id, count in sorted(counts.items()):
            self._conn.execute(silences.update().where(silences.c.id == silence_id)
                               .values(silenced=silences.c.silenced + count))

    # -- deployments --------------------------------------------------------------------------------

    def deployment_put(self, record: DeploymentRecord, now: datetime) -> DeploymentRecord:
        d = deployments
        insert = self._dialect_insert(d).values(
            id=record.id, key=record.key, channel=record.channel, route=record.route, started_at=record.started_at,
            finished_at=record.finished_at, body=record.body, updated_at=now)
        # The first start known stands; a late "started" event never reopens a finished deployment.
        upsert = insert.on_conflict_do_update(
            index_elements=[d.c.key, d.c.channel],
            set_={"started_at": sa.func.coalesce(d.c.started_at, insert.excluded.started_at),
                  "finished_at": sa.func.coalesce(insert.excluded.finished_at, d.c.finished_at),
                  "body": sa.case((insert.excluded.finished_at.is_(None) & d.c.finished_at.is_not(None), d.c.body),
                                  else_=insert.excluded.body),
                  "updated_at": insert.excluded.updated_at},
        ).returning(d.c.id, d.c.started_at, d.c.finished_at, d.c.body)
        row = self._conn.execute(upsert).one()
        return DeploymentRecord(row.id, record.key, record.channel, record.route, row.started_at, row.finished_at,
                                row.body)

    def deployment_get(self, deployment_id: str) -> DeploymentRecord | None:
        d = deployments.c
        row = self._conn.execute(sa.select(d.id, d.key, d.channel, d.route, d.started_at, d.finished_at, d.body)
                                 .where(d.id == deployment_id)).one_or_none()
        return None if row is None else DeploymentRecord(*row)

    # -- counters -----------------------------------------------------------------------------------

    def notifications_counted(self, counts: dict[str, int], now: datetime) -> None:
        hour = now.replace(minute=0, second=0, microsecond=0)
        rows = [{"hour": hour, "name": name, "count": count} for name, count in sorted(counts.items()) if count]
        if rows:
            insert = self._dialect_insert(notification_counters)
            self._conn.execute(insert.on_conflict_do_update(
                index_elements=[notification_counters.c.hour, notification_counters.c.name],
                set_={"count": notification_counters.c.count + insert.excluded["count"]}), rows)

    def notification_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        c = notification_counters.c
        query = (sa.select(c.name, sa.func.sum(c.count)).where(c.hour >= since, c.hour < until).group_by(c.name))
        return {name: int(total) for name, total in self._conn.execute(query)}


_UPSERTS: dict[str, tuple[sa.Insert, sa.Insert]] = {}


def _upserts(dialect: str, dialect_insert: Any) -> tuple[sa.Insert, sa.Insert]:
    """(group upsert, alert upsert) for a dialect, built once: processing writes them for every batch,
    and building an ON CONFLICT statement costs more than running it."""
    if dialect not in _UPSERTS:
        group = dialect_insert(alert_groups)
        alert = dialect_insert(group_alerts)
        _UPSERTS[dialect] = (
            group.on_conflict_do_update(index_elements=[alert_groups.c.id],
                                        set_={name: group.excluded[name] for name in _GROUP_UPDATED}),
            alert.on_conflict_do_update(index_elements=[group_alerts.c.group_id, group_alerts.c.key],
                                        set_={name: alert.excluded[name] for name in _ALERT_UPDATED}),
        )
    return _UPSERTS[dialect]


def _alert_row(group_id: str, alert: Alert, meta: AlertMeta) -> dict[str, Any]:
    return {"id": meta.id, "group_id": group_id, "key": alert.key, "status": alert.status.value,
            "severity": alert.severity.value, "body": to_json(alert), "occurred_at": alert.occurred_at,
            "joined_at": meta.joined_at,
            "fired_at": meta.fired_at, "left_at": None, "acked_at": meta.acked_at, "acked_by": meta.acked_by,
            "acked_by_name": meta.acked_by_name}


def _group_from_rows(row: Any, alert_rows: Iterable[Any]) -> StoredGroup:
    state = GroupState(
        key=row.group_key, labels=tuple((name, value) for name, value in row.labels), incarnation=row.incarnation,
        next_flush_at=row.next_flush_at,
        notified_firing=None if row.notified_firing is None else frozenset(row.notified_firing),
        last_notified_at=row.last_notified_at,
    )
    meta = {}
    for alert_row in alert_rows:
        state.alerts[alert_row.key] = from_json(Alert, alert_row.body)
        meta[alert_row.key] = AlertMeta(id=alert_row.id, joined_at=alert_row.joined_at, fired_at=alert_row.fired_at,
                                        acked_at=alert_row.acked_at, acked_by=alert_row.acked_by,
                                        acked_by_name=alert_row.acked_by_name)
    return StoredGroup(id=row.id, route=row.route, channel=row.channel, state=state, created_at=row.created_at,
                       meta=meta, ended_at=row.ended_at)


def _silence_from_row(row: Any) -> Silence:
    return Silence(id=row.id, matchers=tuple(parse_matcher(text) for text in row.matchers),
                   created_by=row.created_by, created_by_name=row.created_by_name, reason=row.reason,
                   created_at=row.created_at, expires_at=row.expires_at, ended_at=row.ended_at,
                   ended_by=row.ended_by, silenced=row.silenced)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
