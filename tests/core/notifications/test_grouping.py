"""Alertmanager's grouping timings, driven by a fake clock: group_wait, group_interval, repeat_interval."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from opsgate.core.notifications.grouping import (
    ALL_LABELS,
    FlushReason,
    Grouper,
    GroupingRule,
)
from opsgate.domain.alerts import AlertStatus, Severity
from opsgate.testing import FakeClock
from tests.core.notifications.alert_samples import T0, alert, resolved

RULE = GroupingRule(group_by=("environment", "source"), group_wait_s=30, group_interval_s=300,
                    repeat_interval_s=3600, mention_at=Severity.CRITICAL)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def grouper() -> Grouper:
    return Grouper(RULE)


def keys(alerts) -> list[str]:
    return [a.key for a in alerts]


def _at(clock: FakeClock, seconds: float):
    """Move the clock to T0 + seconds."""
    clock.set(T0 + timedelta(seconds=seconds))
    return clock.now()


def test_a_new_group_waits_group_wait_before_its_first_notification(grouper, clock):
    grouper.add(alert("a"), clock.now())
    assert grouper.next_due_at() == T0 + timedelta(seconds=30)
    assert grouper.due(clock.advance(29)) == []
    [flush] = grouper.due(clock.advance(1))
    assert flush.reason is FlushReason.NEW and flush.new_message
    assert keys(flush.firing) == ["cloudwatch:a"] and flush.resolved == ()


def test_alerts_arriving_during_group_wait_share_the_first_notification(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(alert("b"), clock.advance(10))
    grouper.add(alert("c"), clock.advance(19))
    [flush] = grouper.due(clock.advance(1))
    assert keys(flush.firing) == ["cloudwatch:a", "cloudwatch:b", "cloudwatch:c"]


def test_alerts_with_different_group_labels_form_separate_groups(grouper, clock):
    grouper.add(alert("a", environment="prod"), clock.now())
    grouper.add(alert("b", environment="staging"), clock.now())
    flushes = grouper.due(clock.advance(30))
    assert sorted(f.group_key for f in flushes) == ["environment=prod,source=cloudwatch",
                                                    "environment=staging,source=cloudwatch"]


def test_a_repeat_of_the_same_alert_updates_it_instead_of_adding_one(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(replace(alert("a"), summary="newer text"), clock.advance(5))
    [flush] = grouper.due(clock.advance(25))
    assert len(flush.firing) == 1 and flush.firing[0].summary == "newer text"


def test_an_alert_that_resolves_during_group_wait_is_never_shown(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(resolved("a"), clock.advance(10))
    assert grouper.due(clock.advance(20)) == []
    assert grouper.group_count() == 0  # the group ended without a message


def test_an_alert_resolving_during_group_wait_beside_a_firing_one_is_shown_resolved(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(alert("b"), clock.now())
    grouper.add(resolved("a"), clock.advance(10))
    [flush] = grouper.due(clock.advance(20))
    assert keys(flush.firing) == ["cloudwatch:b"]
    assert keys(flush.resolved) == ["cloudwatch:a"]  # Alertmanager sends it along: it is in the group
    assert grouper.alerts_in(flush.group_key) == (flush.firing[0],)  # the resolved one has left


def test_a_new_alert_during_group_interval_waits_for_the_next_interval(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(clock.advance(30))  # first notification at T0+30
    grouper.add(alert("b"), clock.advance(10))  # T0+40
    assert grouper.due(clock.advance(100)) == []  # T0+140: still inside the interval
    assert grouper.next_due_at() == T0 + timedelta(seconds=330)
    [flush] = grouper.due(_at(clock, 330))
    assert flush.reason is FlushReason.CHANGED and not flush.new_message
    assert keys(flush.firing) == ["cloudwatch:a", "cloudwatch:b"]



def test_an_unchanged_firing_group_is_not_notified_again_before_repeat_interval(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(_at(clock, 30))
    for tick in range(1, 12):  # every group interval up to 55 min later
        assert grouper.due(_at(clock, 30 + 300 * tick)) == [], tick


def test_an_unchanged_firing_group_repeats_on_the_first_interval_after_repeat_interval(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(_at(clock, 30))
    assert grouper.due(_at(clock, 30 + 300 * 11)) == []  # 55 min after the notification
    [flush] = grouper.due(_at(clock, 30 + 300 * 12))  # 60 min: repeat_interval reached on a tick
    assert flush.reason is FlushReason.REPEAT and keys(flush.firing) == ["cloudwatch:a"]
    assert not flush.mention  # a reminder never pages


def test_repeat_only_when_nothing_changed_a_change_resets_the_repeat_clock(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(_at(clock, 30))
    grouper.add(alert("b"), _at(clock, 30 + 300 * 10 + 1))
    [changed] = grouper.due(_at(clock, 30 + 300 * 11))
    assert changed.reason is FlushReason.CHANGED
    assert grouper.due(_at(clock, 30 + 300 * 12)) == []  # 5 min after the change: no repeat yet
    [repeat] = grouper.due(_at(clock, 30 + 300 * 23))  # an hour after the change
    assert repeat.reason is FlushReason.REPEAT


def test_a_group_is_resolved_when_all_its_alerts_resolved_and_then_ends(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(alert("b"), clock.now())
    [first] = grouper.due(_at(clock, 30))
    grouper.add(resolved("a"), _at(clock, 100))
    [partly] = grouper.due(_at(clock, 330))
    assert keys(partly.firing) == ["cloudwatch:b"] and keys(partly.resolved) == ["cloudwatch:a"]
    assert not partly.all_resolved
    grouper.add(resolved("b"), _at(clock, 400))
    [done] = grouper.due(_at(clock, 630))
    assert done.all_resolved and keys(done.resolved) == ["cloudwatch:b"]
    assert done.message_key == first.message_key  # the same chat message is marked resolved
    assert grouper.group_count() == 0 and grouper.next_due_at() is None


def test_a_group_that_comes_back_after_ending_is_a_new_message_after_group_wait(grouper, clock):
    grouper.add(alert("a"), clock.now())
    [first] = grouper.due(_at(clock, 30))
    grouper.add(resolved("a"), _at(clock, 40))
    grouper.due(_at(clock, 330))
    grouper.add(alert("a"), _at(clock, 1000))
    assert grouper.due(_at(clock, 1029)) == []
    [again] = grouper.due(_at(clock, 1030))
    assert again.new_message and again.incarnation == first.incarnation + 1
    assert again.message_key != first.message_key


def test_an_alert_that_resolves_and_fires_again_within_one_interval_changes_nothing(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(_at(clock, 30))
    grouper.add(resolved("a"), _at(clock, 100))
    grouper.add(alert("a"), _at(clock, 200))
    assert grouper.due(_at(clock, 330)) == []  # flapping inside an interval is not news


def test_a_resolved_alert_nobody_saw_firing_creates_nothing(grouper, clock):
    assert grouper.add(resolved("ghost"), clock.now()) is None
    assert grouper.group_count() == 0


def test_an_alert_stays_in_its_group_when_a_grouping_label_changes(clock):
    grouper = Grouper(GroupingRule(group_by=("severity",), group_wait_s=0, group_interval_s=60,
                                   repeat_interval_s=3600))
    first_key = grouper.add(alert("a", severity=Severity.HIGH), clock.now())
    assert grouper.add(alert("a", severity=Severity.WARNING), clock.now()) == first_key
    [flush] = grouper.due(clock.now())
    assert flush.firing[0].severity is Severity.WARNING and grouper.group_count() == 1


def test_mention_only_for_newly_firing_alerts_at_or_above_the_configured_severity(grouper, clock):
    grouper.add(alert("a", severity=Severity.HIGH), clock.now())
    [quiet] = grouper.due(_at(clock, 30))
    assert not quiet.mention
    grouper.add(alert("b", severity=Severity.CRITICAL), _at(clock, 40))
    [loud] = grouper.due(_at(clock, 330))
    assert loud.mention
    grouper.add(resolved("a", severity=Severity.HIGH), _at(clock, 400))
    [calm] = grouper.due(_at(clock, 630))
    assert not calm.mention  # b is still firing, but it is not new


def test_info_alerts_are_shown_once_and_never_repeat(grouper, clock):
    grouper.add(alert("notice", status=AlertStatus.INFO, severity=Severity.INFO), clock.now())
    [flush] = grouper.due(_at(clock, 30))
    assert keys(flush.firing) == ["cloudwatch:notice"]
    assert grouper.group_count() == 0
    assert grouper.due(_at(clock, 30 + 7200)) == []


def test_group_by_all_labels_gives_every_alert_its_own_group(clock):
    grouper = Grouper(GroupingRule(group_by=(ALL_LABELS,), group_wait_s=0, group_interval_s=60,
                                   repeat_interval_s=3600))
    grouper.add(alert("a"), clock.now())
    grouper.add(alert("b"), clock.now())
    assert len(grouper.due(clock.now())) == 2


def test_custom_labels_can_group(clock):
    grouper = Grouper(GroupingRule(group_by=("team",), group_wait_s=0, group_interval_s=60, repeat_interval_s=60))
    grouper.add(alert("a", team="payments"), clock.now())
    grouper.add(alert("b", team="payments"), clock.now())
    grouper.add(alert("c"), clock.now())  # no team label: the empty value is a group of its own
    flushes = grouper.due(clock.now())
    assert sorted(f.group_key for f in flushes) == ["team=", "team=payments"]


def test_zero_group_wait_flushes_on_the_next_call(clock):
    grouper = Grouper(GroupingRule(group_wait_s=0, group_interval_s=60, repeat_interval_s=3600))
    grouper.add(alert("a"), clock.now())
    assert len(grouper.due(clock.now())) == 1


def test_a_late_caller_gets_one_flush_not_one_per_missed_interval(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.due(_at(clock, 30))
    grouper.add(alert("b"), _at(clock, 40))
    assert len(grouper.due(_at(clock, 5000))) == 1
    assert grouper.next_due_at() == T0 + timedelta(seconds=5300)


def test_exhaustive_timeline_chat_calls_stay_within_two_per_group_interval(clock):
    """An alert storm: 50 alarms flapping every 7 s for an hour give at most one call per interval."""
    grouper = Grouper(RULE)
    calls = 0
    for second in range(3600):
        now = _at(clock, second)
        if second % 7 == 0:
            name = f"alarm-{second % 50}"
            grouper.add(alert(name) if (second // 7) % 3 else resolved(name), now)
        calls += len(grouper.due(now))
    assert calls <= 1 + 3600 // 300


@pytest.mark.parametrize("kwargs, problem", [
    ({"group_wait_s": -1}, "group_wait_s"),
    ({"group_interval_s": 0}, "group_interval_s"),
    ({"group_interval_s": 600, "repeat_interval_s": 300}, "repeat_interval_s"),
])
def test_rules_that_cannot_work_are_refused(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        GroupingRule(**kwargs)


def test_an_older_state_delivered_after_a_newer_one_is_ignored(grouper, clock):
    grouper.add(alert("a"), clock.now())
    grouper.add(replace(resolved("a"), occurred_at=T0 + timedelta(seconds=5)), clock.advance(5))
    grouper.add(alert("a"), clock.advance(1))  # the ALARM of T0 again, arriving late
    assert grouper.due(_at(clock, 30)) == []  # fired and resolved during group_wait: nothing to show
