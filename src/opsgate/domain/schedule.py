"""Scheduled checks (a read command line on a cron schedule) and reminders (one message, once).

Plain data: the cron arithmetic is injected as `Schedule.next_fire` by the catalog loader, the
store keeps `CheckState` and `Reminder` rows, the leader runs them (see core.schedules,
core.reminders).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

SCHEDULE_PLATFORM = "schedule"  # the chat platform of scheduled runs; people name it in `identities`


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    cron: str  # five fields, as written in the catalog
    timezone: str
    line: str  # the read command line it runs, e.g. "alarms env=prod"
    run_as: str  # catalog person id
    actor_id: str  # that person's `schedule` identity
    channel: str  # where a changed result is posted
    description: str = ""
    # The first fire time strictly after the given instant (aware), or None if there is none.
    next_fire: Callable[[datetime], datetime | None] = field(default=lambda _after: None, compare=False, repr=False)

    def __hash__(self) -> int:
        return hash(self.name)

    def idempotency_key(self, fire_time: datetime) -> str:
        """The same for every process that fires this schedule at this time: it runs once."""
        return f"schedule:{self.name}:{fire_time.isoformat()}"


@dataclass(frozen=True, slots=True)
class CheckState:
    """What the scheduler remembers of one schedule between fires."""

    name: str
    last_fire_at: datetime  # the fire time handled last (or when the schedule was first seen)
    last_hash: str | None = None  # of the last result; a different one is posted
    last_request_id: str | None = None
    changed_at: datetime | None = None  # when the result last changed


def result_hash(outcome: str, text: str) -> str:
    return hashlib.sha256(f"{outcome}\n{text}".encode()).hexdigest()


class ReminderState(str, Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the leader; back to due if it never confirms (a crash)
    SENT = "sent"
    CANCELLED = "cancelled"


_ID_ALPHABET = string.digits + string.ascii_lowercase
REMINDER_ID_PATTERN = r"rem-[0-9a-z]{8}"


def new_reminder_id() -> str:
    return "rem-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


@dataclass(frozen=True, slots=True)
class Reminder:
    id: str
    channel: str
    text: str
    due_at: datetime
    created_by: str  # person id
    created_by_name: str
    created_at: datetime
    state: ReminderState = ReminderState.PENDING
    thread: str | None = None
    claimed_until: datetime | None = None
    attempts: int = 0  # deliveries started; more than one means an earlier one was interrupted
    sent_at: datetime | None = None
    cancelled_by: str | None = None

    def moved(self, state: ReminderState, **changes) -> Reminder:
        return replace(self, state=state, **changes)
