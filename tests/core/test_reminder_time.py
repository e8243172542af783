"""The `at=` grammar of reminders: each documented form, the team's time zone, clock changes, and
clear refusals for anything else."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.domain.reminder_time import parse_when

BERLIN = "Europe/Berlin"
# Monday 2026-03-02 09:00 UTC = 10:00 in Berlin (CET, UTC+1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "expected"), [
    ("in 2h", utc(2026, 3, 2, 11, 0)),
    ("in 1h30m", utc(2026, 3, 2, 10, 30)),
    ("+45m", utc(2026, 3, 2, 9, 45)),
    ("IN   90s", utc(2026, 3, 2, 9, 1, 30)),
    ("15:30", utc(2026, 3, 2, 14, 30)),  # later today, Berlin time
    ("09:00", utc(2026, 3, 3, 8, 0)),  # already past in Berlin (10:00): tomorrow
    ("today 17:00", utc(2026, 3, 2, 16, 0)),
    ("tomorrow 09:00", utc(2026, 3, 3, 8, 0)),
    ("Fri 09:00", utc(2026, 3, 6, 8, 0)),
    ("mon 11:00", utc(2026, 3, 2, 10, 0)),  # today, still ahead
    ("mon 09:00", utc(2026, 3, 9, 8, 0)),  # today, but past: next week
    ("2026-03-10 15:00", utc(2026, 3, 10, 14, 0)),
    ("2026-03-10T15:00:30", utc(2026, 3, 10, 14, 0, 30)),
    ("2026-03-10T15:00Z", utc(2026, 3, 10, 15, 0)),
    ("2026-03-10T15:00+05:00", utc(2026, 3, 10, 10, 0)),
])
def test_each_documented_form(text, expected):
    assert parse_when(text, NOW, BERLIN) == expected


def test_times_of_day_follow_daylight_saving_time():
    # Berlin moves to CEST (UTC+2) on 2026-03-29: "tomorrow 09:00" on the 28th is 07:00 UTC
    assert parse_when("tomorrow 09:00", utc(2026, 3, 28, 12, 0), BERLIN) == utc(2026, 3, 29, 7, 0)


def test_a_local_time_the_clocks_skip_is_refused():
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        parse_when("2026-03-29 02:30", NOW, BERLIN)


def test_a_local_time_that_happens_twice_means_the_first():
    # 2026-10-25 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET)
    assert parse_when("2026-10-25 02:30", NOW, BERLIN) == utc(2026, 10, 25, 0, 30)


@pytest.mark.parametrize(("text", "message"), [
    ("yesterday", "is not a time opsgate reads; use"),
    ("next week", "is not a time opsgate reads"),
    ("in a while", "is not a duration after `in`"),
    ("25:00", "is not a time opsgate reads"),
    ("2026-02-30 10:00", "is not a valid date and time"),
    ("2026-03-10", "is not a time opsgate reads"),
    ("", "is not a time opsgate reads"),
])
def test_anything_else_is_refused_naming_the_forms(text, message):
    with pytest.raises(ValueError, match=message):
        parse_when(text, NOW, BERLIN)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), offset_s=st.integers(min_value=0, max_value=400 * 86400))
def test_any_text_gives_an_aware_time_or_a_value_error(text, offset_s):
    now = NOW + timedelta(seconds=offset_s)
    try:
        when = parse_when(text, now, BERLIN)
    except ValueError:
        return
    assert when.tzinfo is not None and when.utcoffset() == timedelta(0)


@settings(max_examples=300, deadline=None)
@given(hour=st.integers(0, 23), minute=st.integers(0, 59), offset_s=st.integers(min_value=0, max_value=400 * 86400))
def test_a_time_of_day_is_the_next_one_within_a_day(hour, minute, offset_s):
    now = NOW + timedelta(seconds=offset_s)
    try:
        when = parse_when(f"{hour:02d}:{minute:02d}", now, BERLIN)
    except ValueError as err:  # the hour skipped when the clocks go forward
        assert "does not exist" in str(err)
        return
    assert now < when <= now + timedelta(hours=25)
