"""Incidents, their roles, timelines and tied alert groups: the IncidentTransaction port, mixed into
SqlTransaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opsgate.adapters.store.tables_incidents import incident_alert_groups, incident_roles, incident_timeline, incidents
from opsgate.domain.incident import Incident, IncidentTimes, RoleHolder, RoomKind, Status, TimelineEntry
from opsgate.errors import ConflictError

_OPEN = incidents.c.status != Status.RESOLVED.value


class SqlIncidents:
    _conn: Connection
    _dialect_insert: Any  # postgresql.insert or sqlite.insert, both with ON CONFLICT

    if TYPE_CHECKING:
        def _rows_written(self, insert: sa.Insert) -> int: ...

    # -- incidents ---------------------------------------------------------------------------------

    def incident_next_number(self) -> int:
        return (self._conn.execute(sa.select(sa.func.max(incidents.c.number))).scalar_one() or 0) + 1

    def incident_insert(self, incident: Incident) -> bool:
        # ON CONFLICT instead of catching the unique violation: on PostgreSQL an error would abort the
        # transaction, and the caller takes the next number instead.
        insert = self._dialect_insert(incidents).values(_incident_values(incident)).on_conflict_do_nothing()
        return self._rows_written(insert) == 1

    def incident_get(self, incident_id: str, *, for_update: bool = False) -> Incident | None:
        query = sa.select(incidents).where(incidents.c.id == incident_id)
        if for_update:
            # NO KEY UPDATE: it serialises changes to the incident, yet lets the grouping (which holds
            # the grouping lock) add timeline rows that reference it meanwhile; FOR UPDATE would block
            # those rows' foreign key check and could deadlock with a command waiting for that lock.
            # SQLite has no row locks; BEGIN IMMEDIATE serialises.
            query = query.with_for_update(key_share=True)
        row = self._conn.execute(query).one_or_none()
        return None if row is None else _incident_from_row(row)

    def incident_update(self, incident: Incident) -> None:
        values = _incident_values(incident)
        del values["id"], values["number"]
        changed = self._conn.execute(incidents.update().where(incidents.c.id == incident.id).values(values)).rowcount
        if changed == 0:
            raise ConflictError(f"incident {incident.id} is missing; it was not updated")

    def incident_in_room(self, channel: str, thread: str | None, *, open_only: bool = True) -> Incident | None:
        room = sa.or_(
            incidents.c.room == RoomKind.CHANNEL.value,
            sa.and_(incidents.c.room == RoomKind.THREAD.value, incidents.c.thread == thread),
        )
        query = sa.select(incidents).where(incidents.c.channel == channel, room)
        if open_only:
            query = query.where(_OPEN)
        row = self._conn.execute(query.order_by(incidents.c.number.desc()).limit(1)).one_or_none()
        return None if row is None else _incident_from_row(row)

    def incident_channel_known(self, channel: str) -> bool:
        query = sa.select(incidents.c.id).where(incidents.c.channel == channel).limit(1)
        return self._conn.execute(query).first() is not None

    def incidents_list(self, *, open_only: bool = True, limit: int = 50) -> list[Incident]:
        query = sa.select(incidents).order_by(incidents.c.number.desc()).limit(limit)
        if open_only:
            query = query.where(_OPEN)
        return [_incident_from_row(row) for row in self._conn.execute(query)]

    def incident_times(self, since: datetime, until: datetime) -> list[IncidentTimes]:
        query = (
            sa.select(incidents.c.id, incidents.c.severity, incidents.c.declared_at, incidents.c.acknowledged_at,
                      incidents.c.mitigated_at, incidents.c.resolved_at)
            .where(incidents.c.declared_at >= since, incidents.c.declared_at < until)
            .order_by(incidents.c.declared_at, incidents.c.number)
        )
        return [IncidentTimes(*row) for row in self._conn.execute(query)]

    # -- roles -------------------------------------------------------------------------------------

    def incident_set_role(self, incident_id: str, holder: RoleHolder) -> None:
        insert = self._dialect_insert(incident_roles).values(incident_id=incident_id, **dataclasses.asdict(holder))
        self._conn.execute(insert.on_conflict_do_update(
            index_elements=[incident_roles.c.incident_id, incident_roles.c.role],
            set_={name: insert.excluded[name] for name in ("person_id", "person_name", "assigned_at", "assigned_by")},
        ))

    def incident_roles(self, incident_id: str) -> list[RoleHolder]:
        query = (sa.select(incident_roles.c.role, incident_roles.c.person_id, incident_roles.c.person_name,
                           incident_roles.c.assigned_at, incident_roles.c.assigned_by)
                 .where(incident_roles.c.incident_id == incident_id))
        return [RoleHolder(**row._mapping) for row in self._conn.execute(query)]

    # -- timeline ----------------------------------------------------------------------------------

    def incident_timeline_add(self, entry: TimelineEntry) -> bool:
        values = dataclasses.asdict(entry)
        del values["id"]
        insert = self._dialect_insert(incident_timeline).values(values).on_conflict_do_nothing()
        return self._rows_written(insert) == 1

    def incident_timeline(self, incident_id: str) -> list[TimelineEntry]:
        query = (sa.select(incident_timeline).where(incident_timeline.c.incident_id == incident_id)
                 .order_by(incident_timeline.c.at, incident_timeline.c.id))
        return [TimelineEntry(**row._mapping) for row in self._conn.execute(query)]

    # -- alert groups tied by hand -------------------------------------------------------------------

    def incident_link_group(self, incident_id: str, group_id: str, person_id: str, now: datetime) -> bool:
        insert = self._dialect_insert(incident_alert_groups).values(
            incident_id=incident_id, group_id=group_id, linked_at=now, linked_by=person_id).on_conflict_do_nothing()
        return self._rows_written(insert) == 1

    def incident_linked_groups(self, incident_ids: Collection[str]) -> dict[str, set[str]]:
        if not incident_ids:
            return {}
        query = (sa.select(incident_alert_groups.c.group_id, incident_alert_groups.c.incident_id)
                 .where(incident_alert_groups.c.incident_id.in_(sorted(incident_ids))))
        linked: dict[str, set[str]] = {}
        for group_id, incident_id in self._conn.execute(query):
            linked.setdefault(group_id, set()).add(incident_id)
        return linked


def _incident_values(incident: Incident) -> dict[str, Any]:
    values = {field.name: getattr(incident, field.name) for field in dataclasses.fields(Incident)}
    values["status"] = incident.status.value
    values["room"] = incident.room.value
    return values


def _incident_from_row(row: sa.Row[Any]) -> Incident:
    values = dict(row._mapping)
    values["status"] = Status(values["status"])
    values["room"] = RoomKind(values["room"])
    return Incident(**values)
