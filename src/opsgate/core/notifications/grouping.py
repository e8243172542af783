"""Alertmanager's grouping as a pure state machine driven by the caller's clock.

- Alerts with equal values of the `group_by` labels form a group: one chat message per group.
- A new group waits `group_wait_s` before its first notification, so an alert storm arrives as
  one message instead of many.
- After that the group is looked at every `group_interval_s`: it is notified when its set of
  firing or resolved alerts changed, or, unchanged and still firing, once `repeat_interval_s`
  has passed since the last notification.
- Alerts are de-duplicated by `Alert.key`: a repeat updates the alert, it never adds one; one
  older than the state the group holds (delivered out of order) is ignored. A
  firing-then-resolved alert that was never notified is never shown. Resolved (and info) alerts
  leave the group once notified; a group with no alerts left is gone, and the next alert with
  its labels starts a new incarnation (a new chat message).

Nothing here reads a clock or sleeps: `add(alert, now)` and `due(now)` take the time, and
`next_due_at()` says when to call `due` again. Not thread-safe: one owner calls it.

The state of a group is a plain `GroupState`, and `evaluate_due(group, rule, now)` is the whole
timer step of one group: the store-backed grouping (`stored_grouping.py`) loads groups, runs the
same `Grouper` over them and writes them back, so both follow one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from opsgate.domain.alert_groups import GroupState
from opsgate.domain.alerts import Alert, AlertStatus
from opsgate.domain.notification_rules import GroupingRule

__all__ = ["ALL_LABELS", "Flush", "FlushReason", "GroupState", "Grouper", "GroupingRule", "evaluate_due",
           "group_key_of"]

ALL_LABELS = "..."  # Alertmanager's special group_by value: every alert is its own group


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
    newly_firing: tuple[Alert, ...] = ()  # firing (or info) now, not at the last notification

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


def group_key_of(labels: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{name}={value}" for name, value in labels)


def evaluate_due(group: GroupState, rule: GroupingRule, now: datetime) -> tuple[Flush | None, bool]:
    """The timer of `group` ran out: (what to send, if anything; whether the group has ended).
    Moves the group's timer on and lets notified resolved and info alerts leave it."""
    group.next_flush_at = now + timedelta(seconds=rule.group_interval_s)
    flush = _evaluate(group, rule, now)
    if flush is not None:
        _forget_notified(group, now)
    ended = not group.alerts or not group.keys(AlertStatus.FIRING, AlertStatus.INFO) and flush is None
    return flush, ended


def _evaluate(group: GroupState, rule: GroupingRule, now: datetime) -> Flush | None:
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
            now - group.last_notified_at).total_seconds() >= rule.repeat_interval_s:
        reason = FlushReason.REPEAT
    else:
        return None
    newly = (firing - (before or frozenset())) | info
    return Flush(
        group_key=group.key, group_labels=group.labels, incarnation=group.incarnation, reason=reason,
        firing=tuple(a for k, a in group.alerts.items() if k in firing or k in info),
        resolved=tuple(a for k, a in group.alerts.items() if k in resolved),
        mention=any(group.alerts[k].severity.at_least(rule.mention_at) for k in newly),
        newly_firing=tuple(a for k, a in group.alerts.items() if k in newly),
    )


def _forget_notified(group: GroupState, now: datetime) -> None:
    """After a notification: resolved and one-off alerts have been shown; they leave."""
    for key in group.keys(AlertStatus.RESOLVED, AlertStatus.INFO):
        del group.alerts[key]
    group.notified_firing = group.keys(AlertStatus.FIRING)
    group.last_notified_at = now


class Grouper:
    def __init__(self, rule: GroupingRule) -> None:
        self.rule = rule
        self._groups: dict[str, GroupState] = {}
        self._group_of: dict[str, str] = {}  # alert key -> group key
        self._incarnations: dict[str, int] = {}

    def restore(self, groups: list[GroupState], incarnations: dict[str, int] | None = None) -> None:
        """Take over groups kept elsewhere (the store), and the last incarnation of group keys that
        have none open now, so that a group coming back gets the next one."""
        for key, incarnation in (incarnations or {}).items():
            self._incarnations[key] = max(self._incarnations.get(key, 0), incarnation)
        for group in groups:
            self._groups[group.key] = group
            self._incarnations[group.key] = max(self._incarnations.get(group.key, 0), group.incarnation)
            for alert_key in group.alerts:
                self._group_of[alert_key] = group.key

    # -- input --------------------------------------------------------------------------------

    def add(self, alert: Alert, now: datetime) -> str | None:
        """Take in a new or repeated alert; returns its group key (None: nothing to resolve)."""
        # An alert stays in the group it joined, even if a label used for grouping changes
        # (CloudWatch lowers an alarm's severity on INSUFFICIENT_DATA): one condition, one message.
        group = self._groups.get(self._group_of.get(alert.key, ""))
        held = group.alerts.get(alert.key) if group is not None else None
        if held is not None and alert.occurred_at < held.occurred_at:
            return group.key  # delivered out of order: the group already holds a newer state of it
        if group is None:
            if alert.status is AlertStatus.RESOLVED:
                return None  # Alertmanager would notify nothing for it: no group to resolve
            group = self._start_group(alert, now)
        group.alerts[alert.key] = alert
        self._group_of[alert.key] = group.key
        return group.key

    def _start_group(self, alert: Alert, now: datetime) -> GroupState:
        labels = self.group_labels(alert)
        key = group_key_of(labels)
        existing = self._groups.get(key)
        if existing is not None:
            return existing
        self._incarnations[key] = self._incarnations.get(key, 0) + 1
        group = GroupState(key=key, labels=labels, incarnation=self._incarnations[key],
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
            flush, ended = evaluate_due(group, self.rule, now)
            if flush is not None:
                flushes.append(flush)
                for alert in flush.resolved + flush.firing:
                    if alert.key not in group.alerts:
                        del self._group_of[alert.key]
            if ended:
                self._end(group)
        return flushes

    def _end(self, group: GroupState) -> None:
        for key in group.alerts:
            self._group_of.pop(key, None)
        del self._groups[group.key]

    # -- inspection (tests, dashboards) -------------------------------------------------------

    def group_count(self) -> int:
        return len(self._groups)

    def alerts_in(self, group_key: str) -> tuple[Alert, ...]:
        group = self._groups.get(group_key)
        return tuple(group.alerts.values()) if group else ()

    def holds(self, alert_key: str) -> bool:
        """Whether an open group holds the alert (it stays there until shown resolved)."""
        return alert_key in self._group_of

    def alert(self, alert_key: str) -> Alert | None:
        """The alert as its group holds it now."""
        group = self._groups.get(self._group_of.get(alert_key, ""))
        return group.alerts.get(alert_key) if group else None

    def group(self, group_key: str) -> GroupState | None:
        return self._groups.get(group_key)

    def groups(self) -> list[GroupState]:
        return list(self._groups.values())
