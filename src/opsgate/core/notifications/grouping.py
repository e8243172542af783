"""Alertmanager's grouping as a pure state machine driven by the caller's clock.

- Alerts with equal values of the `group_by` labels form a group: one chat message per group.
- A new group waits `group_wait_s` before its first notification, so an alert storm arrives as
  one message instead of many.
- After that the group is looked at every `group_interval_s`: it is notified when its set of
  firing or resolved alerts changed, or, unchanged and still firing, once `repeat_interval_s`
  has passed since the last notification.
- Alerts are de-duplicated by `Alert.key`: a repeat updates the alert, it never adds one. A
  firing-then-resolved alert that was never notified is never shown. Resolved (and info) alerts
  leave the group once notified; a group with no alerts left is gone, and the next alert with
  its labels starts a new incarnation (a new chat message).

Nothing here reads a clock or sleeps: `add(alert, now)` and `due(now)` take the time, and
`next_due_at()` says when to call `due` again. Not thread-safe: one owner calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from opsgate.domain.alerts import Alert, AlertStatus, Severity

ALL_LABELS = "..."  # Alertmanager's special group_by value: every alert is its own group


@dataclass(frozen=True, slots=True)
class GroupingRule:
    group_by: tuple[str, ...] = ("environment", "source")
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    mention_at: Severity = Severity.CRITICAL  # mention people only for alerts at least this severe

    def __post_init__(self) -> None:
        if self.group_wait_s < 0:
            raise ValueError("group_wait_s must not be negative")
        if self.group_interval_s <= 0:
            raise ValueError("group_interval_s must be positive")
        if self.repeat_interval_s < self.group_interval_s:
            raise ValueError("repeat_interval_s must be at least group_interval_s")


class FlushReason(str, Enum):
    NEW = "new"  # the group's first notification
    CHANGED = "changed"  # alerts fired or resolved since the last notification
    REPEAT = "repeat"  # nothing changed, still firing, repeat_interval_s passed


@dataclass(frozen=True, slots=True)
class Flush:
    """One group needs its chat message created (`new_message`) or updated now."""

    group_key: str
    group_labels: tuple[tuple[str, str], ...]
    incarnation: int  # a group that ended and came back is a new incarnation: a new message
    reason: FlushReason
    firing: tuple[Alert, ...]  # firing and one-off info alerts, oldest first
    resolved: tuple[Alert, ...]  # resolved since the last notification
    mention: bool  # a newly firing alert is at least the rule's `mention_at` severity

    @property
    def new_message(self) -> bool:
        return self.reason is FlushReason.NEW

    @property
    def all_resolved(self) -> bool:
        """Nothing fires any more: the message is marked resolved and the group ends."""
        return not self.firing

    @property
    def message_key(self) -> str:
        """Stable id of the chat message this flush creates or updates."""
        return f"{self.group_key}#{self.incarnation}"


@dataclass(slots=True)
class _Group:
    key: str
    labels: tuple[tuple[str, str], ...]
    incarnation: int
    next_flush_at: datetime
    alerts: dict[str, Alert] = field(default_factory=dict)  # insertion order = arrival order
    notified_firing: frozenset[str] | None = None  # None: never notified
    last_notified_at: datetime | None = None

    def keys(self, *statuses: AlertStatus) -> frozenset[str]:
        return frozenset(k for k, a in self.alerts.items() if a.status in statuses)


class Grouper:
    def __init__(self, rule: GroupingRule) -> None:
        self.rule = rule
        self._groups: dict[str, _Group] = {}
        self._group_of: dict[str, str] = {}  # alert key -> group key
        self._incarnations: dict[str, int] = {}

    # -- input --------------------------------------------------------------------------------

    def add(self, alert: Alert, now: datetime) -> str | None:
        """Take in a new or repeated alert; returns its group key (None: nothing to resolve)."""
        # An alert stays in the group it joined, even if a label used for grouping changes
        # (CloudWatch lowers an alarm's severity on INSUFFICIENT_DATA): one condition, one message.
        group = self._groups.get(self._group_of.get(alert.key, ""))
        if group is None:
            if alert.status is AlertStatus.RESOLVED:
                return None  # Alertmanager would notify nothing for it: no group to resolve
            group = self._start_group(alert, now)
        group.alerts[alert.key] = alert
        self._group_of[alert.key] = group.key
        return group.key

    def _start_group(self, alert: Alert, now: datetime) -> _Group:
        labels = self.group_labels(alert)
        key = ",".join(f"{name}={value}" for name, value in labels)
        existing = self._groups.get(key)
        if existing is not None:
            return existing
        self._incarnations[key] = self._incarnations.get(key, 0) + 1
        group = _Group(key=key, labels=labels, incarnation=self._incarnations[key],
                       next_flush_at=now + timedelta(seconds=self.rule.group_wait_s))
        self._groups[key] = group
        return group

    def group_labels(self, alert: Alert) -> tuple[tuple[str, str], ...]:
        if ALL_LABELS in self.rule.group_by:
            return (("alert", alert.key),)
        return tuple((name, alert.label(name)) for name in self.rule.group_by)

    # -- output -------------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        """When `due` has work next; None when there are no groups."""
        return min((g.next_flush_at for g in self._groups.values()), default=None)

    def due(self, now: datetime) -> list[Flush]:
        """Groups whose timer has run out, evaluated now: what to send, oldest timer first."""
        flushes = []
        for group in sorted(self._groups.values(), key=lambda g: (g.next_flush_at, g.key)):
            if group.next_flush_at > now:
                continue
            group.next_flush_at = now + timedelta(seconds=self.rule.group_interval_s)
            flush = self._evaluate(group, now)
            if flush is not None:
                flushes.append(flush)
                self._forget_notified(group, now)
            if not group.alerts or not group.keys(AlertStatus.FIRING, AlertStatus.INFO) and flush is None:
                self._end(group)
        return flushes

    def _evaluate(self, group: _Group, now: datetime) -> Flush | None:
        firing = group.keys(AlertStatus.FIRING)
        info = group.keys(AlertStatus.INFO)
        resolved = group.keys(AlertStatus.RESOLVED)
        before = group.notified_firing
        if before is None:
            if not firing and not info:
                return None  # only alerts that resolved during group_wait: nothing worth showing
            reason = FlushReason.NEW
        elif firing != before or info or (resolved and before):
            reason = FlushReason.CHANGED
        elif firing and group.last_notified_at is not None and (
                now - group.last_notified_at).total_seconds() >= self.rule.repeat_interval_s:
            reason = FlushReason.REPEAT
        else:
            return None
        newly = (firing - (before or frozenset())) | info
        return Flush(
            group_key=group.key, group_labels=group.labels, incarnation=group.incarnation, reason=reason,
            firing=tuple(a for k, a in group.alerts.items() if k in firing or k in info),
            resolved=tuple(a for k, a in group.alerts.items() if k in resolved),
            mention=any(group.alerts[k].severity.at_least(self.rule.mention_at) for k in newly),
        )

    def _forget_notified(self, group: _Group, now: datetime) -> None:
        """After a notification: resolved and one-off alerts have been shown; they leave."""
        for key in group.keys(AlertStatus.RESOLVED, AlertStatus.INFO):
            del group.alerts[key]
            del self._group_of[key]
        group.notified_firing = group.keys(AlertStatus.FIRING)
        group.last_notified_at = now

    def _end(self, group: _Group) -> None:
        for key in group.alerts:
            self._group_of.pop(key, None)
        del self._groups[group.key]

    # -- inspection (tests, dashboards) -------------------------------------------------------

    def group_count(self) -> int:
        return len(self._groups)

    def alerts_in(self, group_key: str) -> tuple[Alert, ...]:
        group = self._groups.get(group_key)
        return tuple(group.alerts.values()) if group else ()
