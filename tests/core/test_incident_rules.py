"""The incident lifecycle rules (domain/incident.py): statuses forward only, times in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.domain.incident import (
    Incident,
    IncidentRuleError,
    Status,
    acknowledge,
    advance,
    channel_name,
    check_note_time,
    durations,
    normalise_id,
    parse_past_time,
    slugify,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def declared(**changes) -> Incident:
    base = Incident(id="inc-1", number=1, title="Checkout returns 500s", severity="2", status=Status.DECLARED,
                    declared_by="alice", declared_by_name="Alice", declared_at=T0, updated_at=T0)
    return replace(base, **changes)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_first_status_acknowledges_and_mitigation_and_resolution_set_their_times():
    incident = advance(declared(), Status.INVESTIGATING, at(3), at(3))
    assert (incident.status, incident.acknowledged_at, incident.mitigated_at) == (Status.INVESTIGATING, at(3), None)
    incident = advance(incident, Status.MITIGATED, at(40), at(41))
    assert incident.mitigated_at == at(40) and incident.updated_at == at(41)
    incident = advance(incident, Status.RESOLVED, at(65), at(65))
    assert (incident.resolved_at, incident.open) == (at(65), False)
    assert durations(incident) == {"acknowledged": "3m", "mitigated": "40m", "resolved": "1h5m"}


def test_resolving_straight_away_sets_every_milestone_to_that_time():
    incident = advance(declared(), Status.RESOLVED, at(10), at(10))
    assert incident.acknowledged_at == incident.mitigated_at == incident.resolved_at == at(10)


def test_statuses_never_go_back():
    mitigated = advance(declared(), Status.MITIGATED, at(5), at(5))
    with pytest.raises(IncidentRuleError, match="inc-1 is mitigated; statuses move forward only"):
        advance(mitigated, Status.INVESTIGATING, at(6), at(6))


def test_declared_is_not_a_status_to_move_to():
    with pytest.raises(IncidentRuleError, match="status must be one of investigating, identified, mitigated, resolved"):
        advance(declared(), Status.DECLARED, at(1), at(1))


def test_a_time_before_a_recorded_milestone_is_refused_clearly():
    acked = acknowledge(declared(), at(10), at(10))
    with pytest.raises(IncidentRuleError) as err:
        advance(acked, Status.MITIGATED, at(5), at(20))
    assert str(err.value) == ("mitigated at 2026-03-02 09:05 would be before acknowledged at 2026-03-02 09:10; "
                              "lifecycle times stay in order: declared ≤ acknowledged ≤ mitigated ≤ resolved")


def test_a_time_before_the_declaration_or_in_the_future_is_refused():
    with pytest.raises(IncidentRuleError, match="would be before declared at 2026-03-02 09:00"):
        acknowledge(declared(), at(-1), at(5))
    with pytest.raises(IncidentRuleError, match="would be in the future"):
        advance(declared(), Status.IDENTIFIED, at(6), at(5))


def test_a_resolved_incident_takes_no_more_changes():
    resolved = advance(declared(), Status.RESOLVED, at(10), at(10))
    for change in (lambda: advance(resolved, Status.RESOLVED, at(11), at(11)),
                   lambda: acknowledge(resolved, at(11), at(11))):
        with pytest.raises(IncidentRuleError, match="was resolved at 2026-03-02 09:10 UTC; it takes no more changes"):
            change()


def test_notes_may_be_dated_back_to_the_declaration_only():
    incident = declared()
    check_note_time(incident, at(0), at(5))
    with pytest.raises(IncidentRuleError, match="before the declaration"):
        check_note_time(incident, at(-1), at(5))
    with pytest.raises(IncidentRuleError, match="in the future"):
        check_note_time(incident, at(6), at(5))


STEPS = st.lists(st.tuples(st.sampled_from([s for s in Status if s is not Status.DECLARED] + ["ack"]),
                           st.integers(min_value=-30, max_value=120)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_whatever_is_asked_the_recorded_times_stay_in_order(steps):
    incident, now = declared(), T0
    for step, minutes in steps:
        now += timedelta(minutes=5)
        try:
            incident = acknowledge(incident, at(minutes), now) if step == "ack" else advance(incident, step, at(minutes), now)
        except IncidentRuleError:
            continue
    times = [t for t in (incident.declared_at, incident.acknowledged_at, incident.mitigated_at, incident.resolved_at)
             if t is not None]
    assert times == sorted(times) and all(t <= now for t in times)
    assert (incident.resolved_at is not None) == (incident.status is Status.RESOLVED)
    if incident.status.rank >= Status.MITIGATED.rank:
        assert incident.mitigated_at is not None and incident.acknowledged_at is not None


@pytest.mark.parametrize(("typed", "expected"), [
    ("08:55", datetime(2026, 3, 2, 8, 55, tzinfo=timezone.utc)),
    ("09:05", datetime(2026, 3, 1, 9, 5, tzinfo=timezone.utc)),  # the latest 09:05: yesterday's
    ("-15m", datetime(2026, 3, 2, 8, 45, tzinfo=timezone.utc)),
    ("1h30m ago", datetime(2026, 3, 2, 7, 30, tzinfo=timezone.utc)),
    ("2026-03-02T08:00Z", datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)),
    ("2026-03-02T10:00+02:00", datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)),
    ("2026-03-02 08:00", datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)),
])
def test_past_times_people_type(typed, expected):
    assert parse_past_time(typed, T0) == expected


@pytest.mark.parametrize("typed", ["yesterday", "25:00", "9", "in 5m", "2026-13-01T00:00Z"])
def test_an_unreadable_time_names_the_accepted_forms(typed):
    with pytest.raises(ValueError, match=r'use "09:05" \(the latest 09:05 UTC\), "-15m"'):
        parse_past_time(typed, T0)


def test_channel_names_follow_the_pattern_and_slack_rules():
    name = channel_name("inc-{date}-{slug}", number=7, title="Checkout API: 500s on /pay! Ünïcode", severity="2",
                        declared_at=T0)
    assert name == "inc-2026-03-02-checkout-api-500s-on-pay-unicode"
    assert channel_name("{id}-sev{sev}", number=7, title="x", severity="1", declared_at=T0) == "inc-7-sev1"
    assert len(channel_name("inc-{slug}-{slug}-{slug}", number=1, title="a" * 40, severity="1", declared_at=T0)) <= 80
    assert channel_name("{slug}", number=3, title="!!!", severity="1", declared_at=T0) == "incident"
    assert slugify("Database: primary down in eu-west-1, failover stuck", 30) == "database-primary-down-in-eu"


@pytest.mark.parametrize(("typed", "expected"), [("inc-12", "inc-12"), ("INC-12", "inc-12"), ("#12", "inc-12"),
                                                 ("12", "inc-12"), ("inc-", None), ("r-12345678", None)])
def test_incident_ids_as_people_type_them(typed, expected):
    assert normalise_id(typed) == expected
