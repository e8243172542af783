"""What opsgate itself knows about an environment, as read actions for the environment summary.

- `holds`: the lock on the environment (store) and its change freezes (catalog): the one in force
  now, and the next one to come;
- `incidents`: the open incidents (they are not tied to one environment, so every open one shows).

Both make no calls outside opsgate; a `summary` action combines them with the AWS reads:

```yaml
action: {kind: summary, parts: [{kind: alarms}, {kind: deployments, view: in-flight, ...},
                                {kind: incidents}, {kind: holds}, {kind: cost, budget: prod-monthly}]}
```
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from opsgate.domain.catalog import ActionSpec, Environment
from opsgate.domain.durations import format_duration_s
from opsgate.domain.freeze import WEEKDAYS, FreezeWindow
from opsgate.errors import AutomationError
from opsgate.ports import Clock, PlannedCall, RunContext, RunResult, Store

HOLDS = "holds"
INCIDENTS = "incidents"
INCIDENTS_SHOWN = 10


def no_settings(kind: str) -> Callable[[dict[str, Any]], list[str]]:
    """The config check of a kind that takes no settings."""
    return lambda settings: [f"{key}: unknown key; the {kind} action takes no settings" for key in settings]


def next_start(window: FreezeWindow, now: datetime) -> datetime | None:
    """When the window next begins after `now` (aware), or None if it never will again."""
    zone = ZoneInfo(window.timezone)
    local = now.astimezone(zone)
    if window.start is not None:
        start = window.start.replace(tzinfo=zone)
        return start if start > local else None
    assert window.start_time is not None
    for offset in range(8):  # a weekly window starts again within a week
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, window.start_time, zone)
        if WEEKDAYS[day.weekday()] in window.days and start > local:
            return start
    return None


def freeze_lines(environment: Environment, now: datetime) -> tuple[list[str], list[str]]:
    """(the freezes in force now, the soonest one to come), as lines."""
    active, upcoming = [], []
    for window in environment.freezes:
        until = window.active_until(now)
        if until is not None:
            reason = f": {window.reason}" if window.reason else ""
            active.append(f"• 🧊 change freeze *{window.name}* in force until {until:%Y-%m-%d %H:%M} "
                          f"{window.timezone}{reason}")
        start = next_start(window, now)
        if start is not None:
            upcoming.append((start, window))
    if not upcoming:
        return active, []
    start, window = min(upcoming, key=lambda pair: pair[0])
    wait = format_duration_s(round((start - now).total_seconds() / 60) * 60)  # to the minute
    return active, [f"• next change freeze: *{window.name}* from {start:%Y-%m-%d %H:%M} {window.timezone} (in {wait})"]


class EnvironmentHolds:
    """The Automation for `holds`: what would hold a change back in the environment now."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        return [PlannedCall("opsgate:locks-and-freezes", "opsgate", {"environment": _environment(ctx).name})]

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        environment, now = _environment(ctx), self.clock.now()
        with self.store.transaction() as tx:
            lock = tx.active_lock(environment.name, now)
        active, upcoming = freeze_lines(environment, now)
        lines = active + upcoming
        output: dict[str, Any] = {"lock": None, "frozen": bool(active)}
        if lock is not None:
            lines.insert(0, f"• 🔒 locked by {lock.holder_name} until {lock.expires_at:%Y-%m-%d %H:%M} UTC: {lock.reason}")
            output["lock"] = {"holder": lock.holder_id, "until": lock.expires_at.isoformat(), "reason": lock.reason}
        elif not active:
            lines.insert(0, f"• {environment.name} is neither locked nor frozen")
        return RunResult(ok=True, summary="Locks and freezes:\n" + "\n".join(lines), output=output)

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError("holds answers at once; there is nothing to follow")


class OpenIncidents:
    """The Automation for `incidents`: the incidents not yet resolved, newest first."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        return [PlannedCall("opsgate:open-incidents", "opsgate")]

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        now = self.clock.now()
        with self.store.transaction() as tx:
            incidents = tx.incidents_list(open_only=True, limit=INCIDENTS_SHOWN + 1)
        if not incidents:
            return RunResult(ok=True, summary="Open incidents: none", output={"incidents": []})
        lines = [f"• 🚨 `{i.id}` {i.severity} {i.title} — {i.status.value}, declared "
                 f"{format_duration_s((now - i.declared_at).total_seconds())} ago by {i.declared_by_name}"
                 + (f" · {i.room_name}" if i.room_name else "") for i in incidents[:INCIDENTS_SHOWN]]
        if len(incidents) > INCIDENTS_SHOWN:
            lines.append("… and more: `/ops incidents` lists them")
        return RunResult(ok=True, summary="Open incidents:\n" + "\n".join(lines),
                         output={"incidents": [i.id for i in incidents[:INCIDENTS_SHOWN]]})

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError("incidents answers at once; there is nothing to follow")


def _environment(ctx: RunContext) -> Environment:
    if ctx.environment is None:
        raise AutomationError("this action reads an environment; the command names none")
    return ctx.environment
