"""Change-freeze windows: absolute date ranges and weekly windows, in a named time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class FreezeWindow:
    """Either `start`/`end` (naive local datetimes) or `days` + `start_time`/`end_time` weekly.

    A weekly window whose end time is not after its start time runs past midnight into the next day.
    """

    name: str
    timezone: str = "UTC"
    start: datetime | None = None
    end: datetime | None = None
    days: tuple[str, ...] = ()
    start_time: time | None = None
    end_time: time | None = None
    reason: str = ""

    def active_until(self, now: datetime) -> datetime | None:
        """If the window covers `now` (aware), return when it ends (aware); else None."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        if self.start is not None and self.end is not None:
            start = self.start.replace(tzinfo=zone)
            end = self.end.replace(tzinfo=zone)
            return end if start <= local < end else None
        assert self.start_time is not None and self.end_time is not None
        # A window that started yesterday may still be running (overnight windows).
        for offset in (0, -1):
            day = local.date() + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            start = datetime.combine(day, self.start_time, zone)
            end_day = day if self.end_time > self.start_time else day + timedelta(days=1)
            end = datetime.combine(end_day, self.end_time, zone)
            if start <= local < end:
                return end
        return None

    def describe(self) -> str:
        if self.start is not None and self.end is not None:
            return f"{self.name} ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} {self.timezone})"
        days = ",".join(self.days)
        return f"{self.name} ({days} {self.start_time:%H:%M}-{self.end_time:%H:%M} {self.timezone})"
