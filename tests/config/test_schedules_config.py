"""The `schedules:` section: cron expressions, read-only lines, the service identity and the channel,
each problem as `file:line path: message`."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opsgate.config import load_catalog_text
from opsgate.config.schedules import cron_calendar
from opsgate.errors import ConfigError
from opsgate.wiring import action_validators

BASE = """\
version: 1
timezone: Europe/Berlin
environments:
  - {name: dev, account: "111111111111", region: eu-west-1}
  - {name: prod, account: "222222222222", region: eu-west-1}
people:
  - {id: alice, name: Alice, identities: {console: alice}}
  - {id: scheduler, name: opsgate scheduler, identities: {schedule: scheduler}}
roles:
  - {name: dev, members: [alice]}
  - {name: observer, members: [scheduler]}
commands:
  - name: alarms
    summary: Alarms
    class: read
    roles: [dev, observer]
    parameters: [{name: env, type: environment}]
    action: {kind: builtin, operation: echo, message: "no alarms in {env}"}
  - name: cost
    summary: Cost
    class: read
    roles: [dev]
    parameters: [{name: env, type: environment}]
    action: {kind: builtin, operation: echo, message: "cheap"}
    channels: [C0FINOPS]
  - name: restart
    summary: Restart
    class: mutate
    roles: [dev, observer]
    parameters: [{name: env, type: environment}]
    action: {kind: builtin, operation: echo, message: "restarted"}
schedules:
"""


def load(schedules: str):
    return load_catalog_text(BASE + schedules, "opsgate.yaml", action_validators=action_validators())


def problems(schedules: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(schedules)
    return caught.value.problems


def line(schedules: str, marker: str) -> int:
    return (BASE + schedules).splitlines().index(next(ln for ln in (BASE + schedules).splitlines() if marker in ln)) + 1


def test_a_schedule_loads_with_the_catalog_zone_and_the_service_identity():
    catalog = load("  - {name: prod-alarms, cron: '0 8 * * mon-fri', run: alarms env=prod, run_as: scheduler, "
                   "channel: C0OPS}\n")
    [schedule] = catalog.schedules
    assert (schedule.name, schedule.timezone, schedule.line, schedule.actor_id, schedule.channel) == (
        "prod-alarms", "Europe/Berlin", "alarms env=prod", "scheduler", "C0OPS")
    # Monday 2026-03-02 06:00 UTC is 07:00 in Berlin: next fire 08:00 Berlin = 07:00 UTC
    assert schedule.next_fire(datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)) == datetime(2026, 3, 2, 7, 0,
                                                                                            tzinfo=timezone.utc)
    assert schedule.idempotency_key(datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)) == \
        "schedule:prod-alarms:2026-03-02T07:00:00+00:00"


@pytest.mark.parametrize(("entry", "key", "message"), [
    ("{name: a, cron: '0 8 * *', run: alarms env=prod, run_as: scheduler, channel: C1}", "cron",
     "needs five fields (minute hour day-of-month month day-of-week), got 4"),
    ("{name: a, cron: '61 8 * * *', run: alarms env=prod, run_as: scheduler, channel: C1}", "cron",
     "is not a cron expression: Error validating expression '61': the last value (61) is higher than the maximum "
     "value (59)"),
    ("{name: a, cron: '0 8 * * 1-5', run: alarms env=prod, run_as: scheduler, channel: C1}", "cron",
     "write weekdays as names (mon-fri, sun): cron dialects disagree on what the numbers mean"),
    ("{name: a, cron: '0 0 30 2 *', run: alarms env=prod, run_as: scheduler, channel: C1}", "cron",
     "never fires (no such date); check the day-of-month and month fields"),
    ("{name: a, cron: '0 8 * * *', run: restart env=dev, run_as: scheduler, channel: C1}", "run",
     "`restart` is a mutate command; schedules run read commands only (nobody is there to approve or confirm)"),
    ("{name: a, cron: '0 8 * * *', run: requests, run_as: scheduler, channel: C1}", "run",
     "`requests` is one of opsgate's own commands; schedules run catalog commands"),
    ("{name: a, cron: '0 8 * * *', run: alarms env=qa, run_as: scheduler, channel: C1}", "run",
     "Parameter `env`: `qa` must be one of dev, prod."),
    ("{name: a, cron: '0 8 * * *', run: alarms env=prod --dry-run, run_as: scheduler, channel: C1}", "run",
     "a scheduled line takes no --dry-run, --link or --break-glass"),
    ("{name: a, cron: '0 8 * * *', run: alarms env=prod, run_as: alice, channel: C1}", "run_as",
     "'alice' has no `schedule` identity; add `schedule: alice` under its identities, so that scheduled runs are "
     "told apart from what the person types"),
    ("{name: a, cron: '0 8 * * *', run: alarms env=prod, run_as: robot, channel: C1}", "run_as",
     "unknown person 'robot' (people: alice, scheduler)"),
    ("{name: a, cron: '0 8 * * *', run: cost env=prod, run_as: scheduler, channel: C0FINOPS}", "run_as",
     "'scheduler' holds none of the roles that may run `cost` (dev)"),
    ("{name: a, cron: '0 8 * * *', run: alarms env=prod, run_as: scheduler, channel: C1, timezone: Mars/Base}",
     "timezone", "'Mars/Base' is not an IANA time zone; use a name such as UTC or Europe/Berlin"),
    ("{name: a, crn: '0 8 * * *', run: alarms env=prod, run_as: scheduler, channel: C1}", "crn",
     "unknown key; did you mean 'cron'? allowed keys: channel, cron, description, name, run, run_as, timezone"),
])
def test_each_schedule_problem(entry, key, message):
    text = f"  - {entry}\n"
    assert f"opsgate.yaml:{line(text, entry[:20])} schedules[0].{key}: {message}" in problems(text)


def test_a_schedule_must_post_where_its_command_may_run():
    text = "  - {name: a, cron: '0 8 * * *', run: cost env=prod, run_as: scheduler, channel: C0OPS}\n"
    assert "opsgate.yaml:33 schedules[0].channel: `cost` may run only in C0FINOPS" in problems(text)


def test_two_schedules_with_one_name_and_every_broken_one_reported():
    text = ("  - {name: a, cron: '0 8 * * *', run: alarms env=prod, run_as: scheduler, channel: C1}\n"
            "  - {name: a, cron: 'bad', run: restart env=dev, run_as: scheduler, channel: C1}\n")
    found = problems(text)
    assert "opsgate.yaml:34 schedules[1].name: duplicate schedule 'a' (first declared on line 33)" in found
    assert any(p.startswith("opsgate.yaml:34 schedules[1].cron:") for p in found)
    assert any(p.startswith("opsgate.yaml:34 schedules[1].run:") for p in found)


def test_next_fire_is_strictly_after_and_follows_the_zone():
    every_quarter = cron_calendar("*/15 * * * *", "UTC")
    at = datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc)
    assert every_quarter(at) == datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    assert every_quarter(at.replace(second=1)) == datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    berlin_morning = cron_calendar("0 9 * * mon", "Europe/Berlin")
    assert berlin_morning(datetime(2026, 3, 30, 0, 0, tzinfo=timezone.utc)) == datetime(2026, 3, 30, 7, 0,
                                                                                        tzinfo=timezone.utc)
