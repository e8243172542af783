"""Alerts in incidents' timelines: which alert groups are tied to which open incidents, and the
entries their alerts leave there.

An alert of a group is tied to an open incident when
  - someone tied the group to it (`incident link alert=g-…`), or
  - the incident was declared with `env=` and the alert is in that environment, or
  - the group's messages go to the incident's own channel.
A resolved incident takes no more alert entries.

The entries are derived from the group as it is stored (when its alert started firing, who
acknowledged it, that it resolved), each under a dedupe key, so noting the same state again (a
replayed batch, a restart, another replica) adds nothing: this runs every time a group is written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from opsgate.core.incidents.timeline import record_timeline
from opsgate.domain.alert_groups import AlertMeta, StoredGroup
from opsgate.domain.alerts import Alert, AlertStatus
from opsgate.domain.incident import Incident, RoomKind
from opsgate.domain.silences import Silence
from opsgate.ports import Transaction

KIND = "alert"
NOT_ALERTS = ("generic", "malformed")  # opsgate's cards for events it could not read: not an incident's alerts
OPEN_INCIDENTS = 200  # open incidents looked at: far more than any team has at once
NAMED = 5  # alerts named in one acknowledgement or silence entry

GroupChange = tuple[StoredGroup, Collection[str]]  # a group as written, and the keys of the alerts it wrote


@dataclass
class Ties:
    """The open incidents, and the groups tied to them by hand."""

    incidents: list[Incident]
    linked: dict[str, set[str]] = field(default_factory=dict)  # group id -> incident ids

    @classmethod
    def open_now(cls, tx: Transaction) -> Ties:
        incidents = tx.incidents_list(open_only=True, limit=OPEN_INCIDENTS)
        return cls(incidents, tx.incident_linked_groups([i.id for i in incidents]) if incidents else {})

    def incidents_of(self, group: StoredGroup, alert: Alert) -> list[Incident]:
        linked = self.linked.get(group.id, set())
        return [incident for incident in self.incidents
                if incident.id in linked
                or (incident.room is RoomKind.CHANNEL and incident.channel == group.channel)
                or (incident.environment is not None and alert.environment == incident.environment)]


def note_changes(tx: Transaction, changes: Iterable[GroupChange], now: datetime, ties: Ties | None = None) -> None:
    """What the written alerts of these groups did, in the timelines of the incidents they are tied
    to. The open incidents are read only when an alert was written (not when a group only ended)."""
    written = [(group, alert, group.meta[key]) for group, keys in changes for key in keys
               if (alert := group.state.alerts.get(key)) is not None and key in group.meta
               and alert.kind not in NOT_ALERTS]
    if not written:
        return
    ties = ties or Ties.open_now(tx)
    if not ties.incidents:
        return
    acks: dict[tuple[str, str, str, str, datetime], list[Alert]] = {}  # one entry per acknowledgement
    for group, alert, meta in written:
        for incident in ties.incidents_of(group, alert):
            _note_alert(tx, incident, group, alert, meta, now)
            if meta.acked_at is not None and meta.acked_by is not None:
                key = (incident.id, group.id, meta.acked_by, meta.acked_by_name or meta.acked_by, meta.acked_at)
                acks.setdefault(key, []).append(alert)
    for (incident_id, group_id, person_id, person_name, at), alerts in acks.items():
        record_timeline(tx, incident_id, KIND, f"{person_name} acknowledged {_listed(alerts)} — alert group {group_id}",
                        at, person_id, group_id, actor_name=person_name,
                        dedupe=f"alert:{incident_id}:{group_id}:ack:{person_id}:{_stamp(at)}")


def note_silence(tx: Transaction, silence: Silence, groups: Iterable[StoredGroup]) -> None:
    """A new silence covers alerts firing in tied groups: one entry per incident and group."""
    covered = [(group, [a for a in group.firing if silence.covers(a) and a.kind not in NOT_ALERTS]) for group in groups]
    covered = [(group, alerts) for group, alerts in covered if alerts]
    if not covered:
        return
    ties = Ties.open_now(tx)
    until = f"until {silence.expires_at:%Y-%m-%d %H:%M} UTC"
    for group, alerts in covered:
        for incident in ties.incidents:
            tied = [a for a in alerts if incident in ties.incidents_of(group, a)]
            if tied:
                record_timeline(tx, incident.id, KIND,
                                f"{silence.created_by_name} silenced {_listed(tied)} {until} ({silence.id}: "
                                f"{silence.reason}) — alert group {group.id}", silence.created_at, silence.created_by,
                                group.id, actor_name=silence.created_by_name,
                                dedupe=f"alert:{incident.id}:{group.id}:silenced:{silence.id}")


def note_open_groups(tx: Transaction, incident: Incident, now: datetime) -> None:
    """A newly declared incident takes in what fires now in its environment (the alerts that made
    someone declare it), dated when each started firing. Under the grouping lock, so a batch of
    alerts being grouped at this moment is seen either here or by the batch itself."""
    if incident.environment is None:
        return
    tx.alerts_lock()
    groups = tx.alert_groups_recent(open_only=True, limit=OPEN_INCIDENTS * 5)
    note_changes(tx, [(g, [a.key for a in g.firing]) for g in groups], now, Ties([incident]))


def describe(alert: Alert) -> str:
    """"critical api-5xx on app/web/50dc… (prod)": its severity, what it is, where."""
    resource = f" on {alert.resource}" if alert.resource and alert.resource != alert.title else ""
    where = f" ({alert.environment})" if alert.environment else ""
    return f"{alert.severity.value} {' '.join(alert.title.split())[:200]}{resource}{where}"


def _note_alert(tx: Transaction, incident: Incident, group: StoredGroup, alert: Alert, meta: AlertMeta,
                now: datetime) -> None:
    """Its firing (dated when it began) and, once it ended, its resolution; a notice once."""
    prefix, about = f"alert:{incident.id}:{meta.id}", f"{describe(alert)} — alert group {group.id}"
    if alert.status is AlertStatus.INFO:
        record_timeline(tx, incident.id, KIND, f"Notice: {about}", min(alert.occurred_at, now), alert.source,
                        group.id, dedupe=f"{prefix}:notice")
        return
    if meta.fired_at is None:
        return  # never fired in this group: nothing to tell
    record_timeline(tx, incident.id, KIND, f"Fired: {about}", meta.fired_at, alert.source, group.id,
                    dedupe=f"{prefix}:fired:{_stamp(meta.fired_at)}")
    if alert.status is AlertStatus.RESOLVED:
        record_timeline(tx, incident.id, KIND, f"Resolved: {about}", max(min(alert.occurred_at, now), meta.fired_at),
                        alert.source, group.id, dedupe=f"{prefix}:resolved:{_stamp(meta.fired_at)}")


def _listed(alerts: list[Alert]) -> str:
    named = "; ".join(describe(a) for a in alerts[:NAMED])
    more = f" and {len(alerts) - NAMED} more" if len(alerts) > NAMED else ""
    return named + more


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S.%f")
