"""When a reminder is due: a narrow, documented grammar instead of guessing at free text.

    in 2h | in 1h30m | in 45m | +2h       a duration from now (durations.py forms)
    15:30                                 the next 15:30 (today if still ahead, else tomorrow)
    today 17:00 | tomorrow 09:00          that day
    mon 09:00 ... sun 09:00               the next such day (today if still ahead)
    2026-03-02 15:00 | 2026-03-02T15:00   a date and time; with an offset (+01:00, Z) it is exact

Times of day and dates without an offset are in the team's time zone (the catalog's `timezone`).
A local time that does not exist (the hour skipped when clocks go forward) is refused; one that
happens twice (clocks go back) means the first.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from opsgate.domain.durations import parse_duration_s
from opsgate.domain.freeze import WEEKDAYS

FORMS = '"in 2h", "15:30", "today 17:00", "tomorrow 09:00", "fri 09:00" or "2026-03-02 15:00"'
_CLOCK = r"([01]?[0-9]|2[0-3]):([0-5][0-9])"
_TIME_OF_DAY = re.compile(_CLOCK)
_DAY_AND_TIME = re.compile(r"(today|tomorrow|" + "|".join(WEEKDAYS) + r")\s+" + _CLOCK)
_RELATIVE = re.compile(r"(?:in\s+|\+)(.+)")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?")


def parse_when(text: str, now: datetime, zone_name: str) -> datetime:
    """The aware UTC instant `text` means at `now`; ValueError naming the accepted forms."""
    spoken = " ".join(text.strip().lower().split())
    zone = ZoneInfo(zone_name)
    if match := _RELATIVE.fullmatch(spoken):
        try:
            return now + timedelta(seconds=parse_duration_s(match.group(1)))
        except ValueError:
            raise ValueError(f"'{text}' is not a duration after `in`; use forms like 2h, 45m, 1h30m") from None
    if match := _TIME_OF_DAY.fullmatch(spoken):
        at = time(int(match.group(1)), int(match.group(2)))
        today = now.astimezone(zone).date()
        first = _local(today, at, zone, text)
        return first if first > now else _local(today + timedelta(days=1), at, zone, text)
    if match := _DAY_AND_TIME.fullmatch(spoken):
        return _on_day(match.group(1), time(int(match.group(2)), int(match.group(3))), now, zone, text)
    if _ISO.fullmatch(text.strip()):
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError as err:
            raise ValueError(f"'{text}' is not a valid date and time ({err})") from None
        if moment.tzinfo is not None:
            return moment.astimezone(timezone.utc)
        return _local(moment.date(), moment.time(), zone, text)
    raise ValueError(f"'{text}' is not a time opsgate reads; use {FORMS}")


def _on_day(day: str, at: time, now: datetime, zone: ZoneInfo, text: str) -> datetime:
    today = now.astimezone(zone).date()
    if day == "today":
        return _local(today, at, zone, text)
    if day == "tomorrow":
        return _local(today + timedelta(days=1), at, zone, text)
    ahead = (WEEKDAYS.index(day) - today.weekday()) % 7
    moment = _local(today + timedelta(days=ahead), at, zone, text)
    return moment if moment > now else _local(today + timedelta(days=ahead + 7), at, zone, text)


def _local(day: date, at: time, zone: ZoneInfo, text: str) -> datetime:
    """A wall-clock time in `zone` as UTC; refused when that wall-clock time does not exist there."""
    moment = datetime.combine(day, at, tzinfo=zone)
    utc = moment.astimezone(timezone.utc)
    if utc.astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise ValueError(f"'{text}' does not exist in {zone.key} (the clocks skip it); pick another time")
    return utc
