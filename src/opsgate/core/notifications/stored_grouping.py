"""Grouping on stored state: the groups a batch of alerts touches are loaded once (under the
store's grouping lock), changed by the same `Grouper` the in-memory tests drive, and written back
once. A restart, or another replica, sees exactly what was committed.

Groups are kept per (route, channel): the same alert routed to two channels is in two groups,
with a message in each.

`save_groups` is the one place a group's changes are written (grouping, the flush, `ack`): with
them, what its alerts did goes into the timelines of the incidents they are tied to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from opsgate.core.incidents import alert_ties
from opsgate.core.notifications import counters
from opsgate.core.notifications.grouping import Grouper, group_key_of
from opsgate.domain.alert_groups import AlertMeta, StoredGroup
from opsgate.domain.alerts import Alert, AlertStatus
from opsgate.domain.notification_rules import NotificationRules
from opsgate.domain.short_ids import new_short_id
from opsgate.ports import Transaction

Scope = tuple[str, str]  # (route, channel)


class BatchGrouping:
    def __init__(self, tx: Transaction, rules: NotificationRules, now: datetime) -> None:
        self.tx = tx
        self.rules = rules
        self.now = now
        self._groupers: dict[Scope, Grouper] = {}
        self._stored: dict[tuple[Scope, str], StoredGroup] = {}  # (scope, group key) -> group
        self._touched: dict[tuple[Scope, str], set[str]] = defaultdict(set)  # alert keys to write
        self._last_seen: dict[str, datetime] = {}  # alert key -> when its latest known state happened
        self._loaded = False

    def load(self, alerts: list[tuple[str, str, Alert]]) -> None:
        """Lock grouping and load every open group these (route, channel, alert) may touch."""
        self.tx.alerts_lock()
        scopes = {(route, channel, group_key_of(self._grouper((route, channel)).group_labels(alert)))
                  for route, channel, alert in alerts}
        keys = {alert.key for _, _, alert in alerts}
        loaded = self.tx.alert_groups_open(scopes, keys)
        last = self.tx.alert_incarnations(scopes)
        self._last_seen = self.tx.alerts_last_seen(keys)
        by_scope: dict[Scope, list[StoredGroup]] = defaultdict(list)
        for group in loaded:
            by_scope[(group.route, group.channel)].append(group)
            self._stored[((group.route, group.channel), group.state.key)] = group
        for scope in {(route, channel) for route, channel, _ in alerts} | set(by_scope):
            incarnations = {key: n for (route, channel, key), n in last.items() if (route, channel) == scope}
            self._grouper(scope).restore([g.state for g in by_scope[scope]], incarnations)
        self._loaded = True

    def shown(self, route: str, channel: str, alert_key: str) -> bool:
        """Whether the alert is in an open group of that route and channel already."""
        grouper = self._groupers.get((route, channel))
        return grouper is not None and grouper.holds(alert_key)

    def add(self, route: str, channel: str, alert: Alert, counts: dict[str, int]) -> None:
        assert self._loaded, "load() first"
        seen = self._last_seen.get(alert.key)
        if seen is not None and alert.occurred_at < seen:
            # Delivered out of order (SNS retries, two paths): a newer state of it is known already,
            # even one whose group has ended; this older one must not bring it back.
            counts[counters.STALE] = counts.get(counters.STALE, 0) + 1
            return
        scope = (route, channel)
        grouper = self._grouper(scope)
        before = grouper.alert(alert.key)
        group_key = grouper.add(alert, self.now)
        if group_key is None:
            return  # resolved, and no group ever showed it firing
        stored = self._stored.get((scope, group_key))
        state = grouper.group(group_key)
        assert state is not None
        if stored is None or stored.state is not state:  # a new group (or a new incarnation)
            stored = StoredGroup(id=new_short_id("g"), route=route, channel=channel, state=state, created_at=self.now)
            self._stored[(scope, group_key)] = stored
        self._note(stored, alert, before, counts)
        self._touched[(scope, group_key)].add(alert.key)
        self._last_seen[alert.key] = max(alert.occurred_at, seen or alert.occurred_at)

    def _note(self, group: StoredGroup, alert: Alert, before: Alert | None, counts: dict[str, int]) -> None:
        """Keep ids and firing times; a firing that starts (again) is unacknowledged."""
        meta = group.meta.get(alert.key)
        if meta is None:
            meta = group.meta[alert.key] = AlertMeta(id=new_short_id("a"), joined_at=self.now)
        starts = alert.status is AlertStatus.FIRING and (before is None or before.status is not AlertStatus.FIRING)
        if starts:
            # From the state change (what people count from), never later than now (clocks drift).
            meta.fired_at = min(alert.occurred_at, self.now)
            meta.acked_at, meta.acked_by, meta.acked_by_name = None, None, None
            counts[counters.ALERTS_FIRED] = counts.get(counters.ALERTS_FIRED, 0) + 1
        elif alert.status is AlertStatus.RESOLVED and before is not None and before.status is AlertStatus.FIRING:
            counts[counters.ALERTS_RESOLVED] = counts.get(counters.ALERTS_RESOLVED, 0) + 1
        elif alert.status is AlertStatus.INFO and before is None:
            counts[counters.NOTICES] = counts.get(counters.NOTICES, 0) + 1

    def save(self) -> None:
        save_groups(self.tx, [(self._stored[at], keys) for at, keys in sorted(self._touched.items())], self.now)

    def _grouper(self, scope: Scope) -> Grouper:
        grouper = self._groupers.get(scope)
        if grouper is None:
            grouper = self._groupers[scope] = Grouper(self.rules.grouping_for(scope[0]))
        return grouper


def save_groups(tx: Transaction, changes: list[tuple[StoredGroup, Collection[str]]], now: datetime) -> None:
    """Write each group and the alerts named (see `alert_group_save`), then tell the incidents they
    are tied to what those alerts did, in the same transaction."""
    for group, keys in changes:
        tx.alert_group_save(group, keys, now)
    alert_ties.note_changes(tx, changes, now)
