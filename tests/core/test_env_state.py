"""The environment summary's opsgate parts: the lock and the change freezes (now and next), and the
open incidents, read from a real store with a fake clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from opsgate.adapters.store import open_store
from opsgate.core.env_state import EnvironmentHolds, OpenIncidents, freeze_lines, next_start, no_settings
from opsgate.domain.catalog import ActionSpec, Environment
from opsgate.domain.freeze import FreezeWindow
from opsgate.domain.incident import Incident, Status
from opsgate.domain.lock import Lock
from opsgate.errors import AutomationError
from opsgate.ports import RunContext
from opsgate.testing import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)  # 13:00 in Berlin
FRIDAY_EVENING = FreezeWindow("friday-evening", "Europe/Berlin", days=("fri",), start_time=time(16, 0),
                              end_time=time(23, 59), reason="No changes going into the weekend")
YEAR_END = FreezeWindow("year-end", "Europe/Berlin", start=datetime(2026, 12, 20), end=datetime(2027, 1, 4),
                        reason="Holiday change freeze")
PROD = Environment("prod", "333333333333", "eu-west-1", freezes=(FRIDAY_EVENING, YEAR_END))


@pytest.fixture
def store(database_url):
    opened = open_store(database_url)
    yield opened
    opened.close()


def ctx(environment: Environment | None = PROD) -> RunContext:
    return RunContext("r-00000001", "carol", environment)


def test_a_weekly_window_next_starts_on_its_next_day_and_a_date_range_once():
    assert next_start(FRIDAY_EVENING, THURSDAY) == datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN)
    assert next_start(YEAR_END, THURSDAY).isoformat() == "2026-12-20T00:00:00+01:00"
    assert next_start(YEAR_END, datetime(2026, 12, 21, tzinfo=timezone.utc)) is None  # started already


def test_freezes_in_force_and_the_soonest_next_one_are_named():
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=timezone.utc)  # 18:00 Berlin: inside the window
    active, upcoming = freeze_lines(PROD, friday)
    assert active == ["• 🧊 change freeze *friday-evening* in force until 2026-03-06 23:59 Europe/Berlin: "
                      "No changes going into the weekend"]
    assert upcoming == ["• next change freeze: *friday-evening* from 2026-03-13 16:00 Europe/Berlin (in 6d22h)"]


def test_holds_says_when_nothing_holds_changes_back(store):
    result = EnvironmentHolds(store, FakeClock(THURSDAY)).run(ActionSpec("holds"), {}, ctx())
    assert result.ok and result.output == {"lock": None, "frozen": False}
    assert result.summary.splitlines() == [
        "Locks and freezes:", "• prod is neither locked nor frozen",
        "• next change freeze: *friday-evening* from 2026-03-06 16:00 Europe/Berlin (in 1d3h)"]


def test_holds_shows_the_lock_from_the_store(store):
    with store.transaction() as tx:
        tx.put_lock(Lock("prod", "bob", "Bob Example", "database migration", THURSDAY,
                         THURSDAY + timedelta(hours=2)), THURSDAY)
    result = EnvironmentHolds(store, FakeClock(THURSDAY + timedelta(minutes=5))).run(ActionSpec("holds"), {}, ctx())
    assert result.summary.splitlines()[1] == "• 🔒 locked by Bob Example until 2026-03-05 14:00 UTC: database migration"
    assert result.output["lock"]["holder"] == "bob"
    later = EnvironmentHolds(store, FakeClock(THURSDAY + timedelta(hours=3))).run(ActionSpec("holds"), {}, ctx())
    assert later.output["lock"] is None  # it expired


def test_holds_needs_an_environment(store):
    with pytest.raises(AutomationError, match="names none"):
        EnvironmentHolds(store, FakeClock(THURSDAY)).run(ActionSpec("holds"), {}, ctx(None))


def incident(number: int, status: Status = Status.INVESTIGATING, *, hours_ago: float = 1) -> Incident:
    declared = THURSDAY - timedelta(hours=hours_ago)
    return Incident(f"inc-{number}", number, f"Checkout errors {number}", "sev2", status, "alice", "Alice Example",
                    declared, declared, room_name=f"#inc-{number}")


def test_open_incidents_are_listed_newest_first_and_resolved_ones_left_out(store):
    with store.transaction() as tx:
        tx.incident_insert(incident(1, hours_ago=30))
        tx.incident_insert(incident(2, Status.RESOLVED))
        tx.incident_insert(incident(3, Status.MITIGATED, hours_ago=0.5))
    result = OpenIncidents(store, FakeClock(THURSDAY)).run(ActionSpec("incidents"), {}, ctx())
    assert result.summary.splitlines() == [
        "Open incidents:",
        "• 🚨 `inc-3` sev2 Checkout errors 3 — mitigated, declared 30m ago by Alice Example · #inc-3",
        "• 🚨 `inc-1` sev2 Checkout errors 1 — investigating, declared 1d6h ago by Alice Example · #inc-1"]
    assert result.output == {"incidents": ["inc-3", "inc-1"]}


def test_no_open_incident_says_so(store):
    result = OpenIncidents(store, FakeClock(THURSDAY)).run(ActionSpec("incidents"), {}, ctx())
    assert (result.ok, result.summary) == (True, "Open incidents: none")


def test_these_kinds_take_no_settings():
    assert no_settings("holds")({}) == []
    assert no_settings("holds")({"env": "prod"}) == ["env: unknown key; the holds action takes no settings"]
