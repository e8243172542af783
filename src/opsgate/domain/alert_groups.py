"""Alert groups as kept between calls: the grouping state of one group, plus what chat and the
store add to it (ids people type, who acknowledged what, when each alert started firing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opsgate.domain.alerts import Alert, AlertStatus


@dataclass(slots=True)
class GroupState:
    """One group between calls: what the timer step (`core.notifications.grouping`) reads and changes."""

    key: str
    labels: tuple[tuple[str, str], ...]
    incarnation: int
    next_flush_at: datetime
    alerts: dict[str, Alert] = field(default_factory=dict)  # insertion order = arrival order
    notified_firing: frozenset[str] | None = None  # None: never notified
    last_notified_at: datetime | None = None

    def keys(self, *statuses: AlertStatus) -> frozenset[str]:
        return frozenset(k for k, a in self.alerts.items() if a.status in statuses)


@dataclass(slots=True)
class AlertMeta:
    """What the store keeps beside one alert of a group."""

    id: str  # "a-" + 8 characters: `ack a-…`
    joined_at: datetime
    fired_at: datetime | None = None  # when its current firing began (time to acknowledge starts here)
    acked_at: datetime | None = None
    acked_by: str | None = None  # person id
    acked_by_name: str | None = None


@dataclass(slots=True)
class StoredGroup:
    """A group of one route in one channel: one chat message (`subject`) while it lasts."""

    id: str  # "g-" + 8 characters: the group's page, `ack g-…`
    route: str
    channel: str
    state: GroupState
    created_at: datetime
    meta: dict[str, AlertMeta] = field(default_factory=dict)  # by alert key, for alerts in the group
    ended_at: datetime | None = None

    @property
    def subject(self) -> str:
        """The chat message about this group (updated in place) and its page."""
        return f"alert-group/{self.id}"

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.state.alerts.values() if a.status is AlertStatus.FIRING]

    def unacknowledged(self) -> list[Alert]:
        return [a for a in self.firing if self.meta.get(a.key) is None or self.meta[a.key].acked_at is None]

    @property
    def acknowledged(self) -> bool:
        """Someone acknowledged every alert that fires now."""
        return bool(self.firing) and not self.unacknowledged()


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """One alert acknowledged: the record behind time-to-acknowledge statistics."""

    group_id: str
    alert_key: str
    fired_at: datetime
    acked_at: datetime
    person_id: str


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """One deployment (pipeline execution, CodeDeploy deployment, ECS roll-out) as routed to one
    channel: its summary message is posted when it finishes."""

    id: str  # "d-" + 8 characters: its page
    key: str
    channel: str
    route: str
    started_at: datetime | None  # from the event, else when opsgate first heard of it
    finished_at: datetime | None  # None: still running
    body: dict = field(default_factory=dict)  # the latest DeploymentEvent as JSON

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def subject(self) -> str:
        return f"deployment/{self.id}"
