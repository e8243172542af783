"""The value numbers: nearest-rank percentiles (properties), and `compute_stats` from plain rows."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsgate.core.stats import PERCENTILE_METHOD, Spread, StatsRows, compute_stats, percentile, stats_text
from opsgate.domain.incident import IncidentTimes

SINCE = datetime(2026, 3, 1, tzinfo=timezone.utc)
UNTIL = SINCE + timedelta(days=7)
waits = st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), max_size=200)


@given(waits)
def test_p50_is_never_above_p90(values):
    spread = Spread.of(values)
    if values:
        assert spread.p50_s <= spread.p90_s
    else:
        assert (spread.count, spread.p50_s, spread.p90_s) == (0, None, None)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_one_value_is_its_own_p50_and_p90(value):
    assert Spread.of([value]) == Spread(1, value, value)


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=200),
       st.floats(min_value=0.1, max_value=100))
def test_a_nearest_rank_percentile_is_an_observed_value_with_enough_values_at_or_below_it(values, p):
    found = percentile(values, p)
    assert found in values
    at_or_below = sum(1 for v in values if v <= found)
    assert at_or_below >= math.ceil(p / 100 * len(values))  # the rank it stands for is covered
    assert sum(1 for v in values if v < found) < math.ceil(p / 100 * len(values))  # and not a higher one


@given(waits)
def test_the_order_of_the_values_does_not_matter(values):
    assert Spread.of(values) == Spread.of(list(reversed(values)))


def test_percentiles_of_ten_waits_follow_the_nearest_rank_method():
    ten = [float(s) for s in range(10, 110, 10)]  # 10 .. 100
    assert (percentile(ten, 50), percentile(ten, 90), percentile(ten, 100)) == (50.0, 90.0, 100.0)
    assert percentile([5.0, 1.0], 50) == 1.0 and percentile([5.0, 1.0], 90) == 5.0
    assert PERCENTILE_METHOD == "nearest-rank"


def test_a_percentile_outside_0_to_100_is_refused():
    with pytest.raises(ValueError, match="above 0 and at most 100"):
        percentile([1.0], 0)


def test_empty_rows_give_zeros_and_no_percentiles():
    stats = compute_stats(SINCE, UNTIL, StatsRows())
    assert (stats.requests, stats.refusals, stats.incidents, stats.events_received) == (0, 0, 0, 0)
    assert stats.time_to_approve == Spread(0, None, None) == stats.time_to_resolve
    assert stats.noise_removed is None  # no events: nothing to remove noise from
    assert "Time to approve: none yet" in stats_text(stats)


def test_use_is_counted_by_command_by_person_and_by_both():
    rows = StatsRows(use=[("rollback", "bob", "succeeded", 3), ("rollback", "bob", "denied", 1),
                          ("rollback", "alice", "succeeded", 1), ("restart", "alice", "expired", 2)])
    stats = compute_stats(SINCE, UNTIL, rows)
    assert stats.requests == 7
    assert stats.by_command == (("rollback", 5), ("restart", 2))
    assert stats.by_person == (("bob", 4), ("alice", 3))
    assert [(u.command, u.person, u.requests, u.refused) for u in stats.use] == [
        ("rollback", "bob", 4, 1), ("restart", "alice", 2, 2), ("rollback", "alice", 1, 0)]


def test_refusals_are_counted_by_rule_or_else_by_event():
    refusals = [{"event": "request.decided", "rule": "role"}, {"event": "request.rejected", "rule": "parse"},
                {"event": "request.decided", "rule": "role"}, {"event": "execution.refused", "rule": None}]
    stats = compute_stats(SINCE, UNTIL, StatsRows(refusals=refusals))
    assert stats.refusals == 4
    assert stats.refusals_by_rule == (("role", 2), ("execution.refused", 1), ("parse", 1))


def test_incident_times_count_only_the_milestones_reached():
    declared = SINCE + timedelta(hours=1)
    incidents = [IncidentTimes("inc-1", "sev2", declared, declared + timedelta(minutes=4), None, None),
                 IncidentTimes("inc-2", "sev1", declared, declared + timedelta(minutes=10),
                               declared + timedelta(minutes=30), declared + timedelta(hours=2))]
    stats = compute_stats(SINCE, UNTIL, StatsRows(incidents=incidents))
    assert stats.incidents == 2
    assert stats.time_to_acknowledge == Spread(2, 240.0, 600.0)
    assert stats.time_to_resolve == Spread(1, 7200.0, 7200.0)


def test_noise_removed_is_the_share_of_events_that_never_became_a_message():
    rows = StatsRows(events_received={"sns": 900, "eventbridge": 100},
                     notification_counts={"messages_posted": 50, "alerts_silenced": 30}, silences_created=2)
    stats = compute_stats(SINCE, UNTIL, rows)
    assert (stats.events_received, stats.messages_posted, stats.alerts_silenced) == (1000, 50, 30)
    assert stats.noise_removed == pytest.approx(0.95)
    assert "95% noise removed" in stats_text(stats)


def test_the_numbers_are_plain_data_for_pages_and_json():
    rows = StatsRows(use=[("rollback", "bob", "succeeded", 2)], approval_waits_s=[60.0, 300.0, 120.0])
    data = compute_stats(SINCE, UNTIL, rows).to_dict()
    assert data["since"] == SINCE.isoformat() and data["by_command"] == [{"command": "rollback", "requests": 2}]
    assert data["time_to_approve"] == {"count": 3, "p50_s": 120.0, "p90_s": 300.0}
    assert data["percentile_method"] == "nearest-rank"


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="must end after it starts"):
        compute_stats(UNTIL, SINCE, StatsRows())
