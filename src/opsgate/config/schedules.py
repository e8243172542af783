"""The catalog's `schedules:` section: read commands run on a cron schedule.

    schedules:
      - name: prod-alarms
        cron: "*/15 8-18 * * mon-fri"     # minute hour day-of-month month day-of-week
        timezone: Europe/Berlin            # default: the catalog's `timezone` (UTC)
        run: alarms env=prod               # a read command line
        run_as: scheduler                  # a person with a `schedule` identity and a role for it
        channel: C0OPS                     # where a changed result is posted

Checked at load: the cron expression (APScheduler's CronTrigger; weekdays as names, because cron
dialects disagree on what 0 means), the line (it must parse, name a catalog command of class
read, and carry no secret values or flags), the service identity (declared, with a `schedule`
identity, holding a role the command allows) and the channel (one the command may run in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field

# models.py imports this module at its end, once the types used here exist.
from opsgate.config.models import Name, PersonId, Text, Timezone, _Strict
from opsgate.config.problems import YamlPath
from opsgate.core.parser import parse_line
from opsgate.domain.catalog import Command, PersonEntry, Role
from opsgate.domain.schedule import SCHEDULE_PLATFORM, Schedule
from opsgate.errors import ParseError

if TYPE_CHECKING:  # context and shape import models, which imports this module
    from opsgate.config.context import CatalogContext
    from opsgate.config.shape import Item

CRON_FIELDS = "minute hour day-of-month month day-of-week"


class ScheduleModel(_Strict):
    """A read command run on a cron schedule; its result is posted when it changes."""

    name: Name = Field(description="Unique; names the check in messages and the audit log.")
    cron: Text = Field(description=f"Five fields ({CRON_FIELDS}), e.g. '*/15 8-18 * * mon-fri'; weekdays as names.",
                       examples=["0 9 * * mon-fri", "*/15 * * * *"])
    timezone: Timezone | None = Field(None, description="IANA zone of the cron fields; default: the catalog's timezone.")
    run: Text = Field(description="A read command line, e.g. 'alarms env=prod'.")
    run_as: PersonId = Field(description="The person it runs as: needs a `schedule` identity and a role for the command.")
    channel: Text = Field(description="Channel id where a changed result is posted.")
    description: str = ""


def cron_calendar(expr: str, zone: str) -> Callable[[datetime], datetime | None]:
    """`next_fire(after)`: the first fire time strictly after `after`; ValueError saying what is wrong."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"needs five fields ({CRON_FIELDS}), got {len(fields)}")
    if re.search(r"\d", fields[4]):
        raise ValueError("write weekdays as names (mon-fri, sun): cron dialects disagree on what the numbers mean")
    try:
        trigger = CronTrigger.from_crontab(expr, timezone=ZoneInfo(zone))
    except (ValueError, TypeError) as err:
        raise ValueError(f"is not a cron expression: {err}") from None

    def next_fire(after: datetime) -> datetime | None:
        return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))

    return next_fire


def build_schedules(items: list[Item], ctx: CatalogContext, commands: Mapping[str, Command],
                    people: Mapping[str, PersonEntry], roles: Mapping[str, Role],
                    default_timezone: str) -> tuple[Schedule, ...]:
    """`commands`: every command a line may name (the catalog's and opsgate's own)."""
    built = []
    now = datetime.now(timezone.utc)  # only to tell whether an expression ever fires
    for item in items:
        schedule = _build(item.model, ("schedules", item.index), ctx, commands, people, roles, default_timezone, now)
        if schedule is not None:
            built.append(schedule)
    return tuple(built)


def _build(model: ScheduleModel, path: YamlPath, ctx: CatalogContext, commands: Mapping[str, Command],
           people: Mapping[str, PersonEntry], roles: Mapping[str, Role], default_timezone: str,
           now: datetime) -> Schedule | None:
    problems = ctx.problems
    before = len(problems)
    zone = model.timezone or default_timezone
    next_fire = None
    try:
        next_fire = cron_calendar(model.cron, zone)
    except ValueError as err:
        problems.add(path + ("cron",), str(err))
    if next_fire is not None and next_fire(now) is None:
        problems.add(path + ("cron",), "never fires (no such date); check the day-of-month and month fields")
    command = _command(model.run, path + ("run",), ctx, commands)
    identity = _service_identity(model, path + ("run_as",), ctx, people)
    if command is not None and identity is not None:
        granted = sorted(r.name for r in roles.values() if r.name in command.roles
                         and r.grants(model.run_as, SCHEDULE_PLATFORM, frozenset()))
        if not granted:
            problems.add(path + ("run_as",), f"'{model.run_as}' holds none of the roles that may run "
                                             f"`{command.name}` ({', '.join(command.roles) or 'none'})")
    if command is not None and command.channels and model.channel not in command.channels:
        problems.add(path + ("channel",), f"`{command.name}` may run only in {', '.join(command.channels)}")
    if len(problems) > before or next_fire is None or identity is None:
        return None
    return Schedule(name=model.name, cron=model.cron, timezone=zone, line=model.run, run_as=model.run_as,
                    actor_id=identity, channel=model.channel, description=model.description, next_fire=next_fire)


def _command(line: str, path: YamlPath, ctx: CatalogContext, commands: Mapping[str, Command]) -> Command | None:
    try:
        parsed = parse_line(line, commands)
    except ParseError as err:
        ctx.problems.add(path, f"{err.message} {err.hint}" if err.hint else err.message)
        return None
    command = parsed.command
    if command.builtin:
        ctx.problems.add(path, f"`{command.name}` is one of opsgate's own commands; schedules run catalog commands")
    elif command.command_class.mutating:
        ctx.problems.add(path, f"`{command.name}` is a {command.command_class.value} command; schedules run read "
                               "commands only (nobody is there to approve or confirm)")
    elif parsed.dry_run or parsed.link or parsed.break_glass:
        ctx.problems.add(path, "a scheduled line takes no --dry-run, --link or --break-glass")
    elif any(p.secret and p.name in parsed.params for p in command.parameters):
        ctx.problems.add(path, "a scheduled line may not carry secret values; the catalog is not the place for them")
    else:
        return command
    return None


def _service_identity(model: ScheduleModel, path: YamlPath, ctx: CatalogContext,
                      people: Mapping[str, PersonEntry]) -> str | None:
    if not ctx.check_reference(path, "person", model.run_as):
        return None
    person = people.get(model.run_as)
    identity = person.identities.get(SCHEDULE_PLATFORM) if person else None
    if person is not None and identity is None:
        ctx.problems.add(path, f"'{model.run_as}' has no `{SCHEDULE_PLATFORM}` identity; add "
                               f"`{SCHEDULE_PLATFORM}: {model.run_as}` under its identities, so that scheduled runs "
                               "are told apart from what the person types")
    return identity
