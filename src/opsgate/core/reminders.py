"""Reminders: `/ops remind <channel> at=... "..."`, `/ops reminders`, `/ops remind cancel <id>`.

A reminder is stored when it is set and delivered once, when due, by the leader's `reminders`
job through the Chat port. Delivery is claimed in the database first (SKIP LOCKED, with a claim
that runs out), so two replicas never both take it; a process that stops between posting and
confirming leaves a claim that runs out, and the reminder is then posted again, marked as a
repeat: nothing is lost, and a rare repeat says so. Setting, cancelling, refusing and sending
are audited.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from opsgate.core.runtime import SYSTEM, Caller, Runtime
from opsgate.domain.durations import format_duration_s
from opsgate.domain.message import Message, Reply
from opsgate.domain.reminder_time import parse_when
from opsgate.domain.schedule import Reminder, ReminderState, new_reminder_id
from opsgate.errors import ConflictError

log = logging.getLogger("opsgate.reminders")

HERE = "here"
CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # Slack's C…/G…/D…, the console's "console"
MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=90)
MAX_PENDING_PER_PERSON = 50
CLAIM_S = 120  # a delivery not confirmed within this is taken again
BATCH = 50
_SHOWN_TEXT_CHARS = 80


def _local(rt: Runtime, moment: datetime) -> str:
    zone = rt.catalog.timezone
    return f"{moment.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} {zone}"


def create(rt: Runtime, caller: Caller, channel: str, at: str, text: str, origin: str, thread: str | None) -> Reply:
    """Set a reminder in `channel` (`here`: where the line came from) at the time `at` says."""
    assert caller.person is not None  # built-ins need a role
    target = origin if channel.lower() == HERE else channel
    now = rt.now()
    try:
        due: datetime | None = parse_when(at, now, rt.catalog.timezone)
        problem = _time_problem(rt, due, now)
    except ValueError as err:
        due, problem = None, f"`at`: {err}"
    if not CHANNEL_ID.fullmatch(target):
        problem = (f"`{channel}` is not a channel id; name the channel by its id (C…, under the channel's details "
                   "in Slack) or say `here`")
    elif not text.strip():
        problem = "the reminder needs a text"
    with rt.store.transaction() as tx:
        if problem is None:
            pending = tx.reminders_list(states=(ReminderState.PENDING,), created_by=caller.person_id,
                                        limit=MAX_PENDING_PER_PERSON)
            if len(pending) >= MAX_PENDING_PER_PERSON:
                problem = f"you have {MAX_PENDING_PER_PERSON} reminders waiting; cancel some first (`reminders` lists them)"
        if problem is not None:
            tx.append_audit(caller.audit("reminder.refused", reason=problem, rule="reminder.input",
                                         correlation={"channel": target}), now)
            reminder = None
        else:
            assert due is not None
            reminder = Reminder(id=new_reminder_id(), channel=target, text=text.strip(), due_at=due,
                                created_by=caller.person_id, created_by_name=caller.name, created_at=now,
                                thread=thread if target == origin else None)
            tx.reminder_add(reminder)
            tx.append_audit(caller.audit("reminder.created", reason=reminder.text, outcome="pending", correlation={
                "reminder": reminder.id, "channel": target, "due_at": due.isoformat()}), now)
    if reminder is None:
        return Reply(f"Cannot set the reminder: {problem}.", ok=False)
    return Reply(f"⏰ Reminder `{reminder.id}` set for {_local(rt, reminder.due_at)} in {reminder.channel}: "
                 f"{reminder.text}\n`remind cancel {reminder.id}` cancels it.")


def _time_problem(rt: Runtime, due: datetime, now: datetime) -> str | None:
    if due < now + MIN_AHEAD:
        return (f"`at`: {_local(rt, due)} is not in the future; a reminder is at least "
                f"{format_duration_s(MIN_AHEAD.total_seconds())} ahead")
    if due > now + MAX_AHEAD:
        return f"`at`: {_local(rt, due)} is more than {MAX_AHEAD.days} days ahead"
    return None


def list_pending(rt: Runtime, caller: Caller, show_all: bool) -> Reply:
    with rt.store.transaction() as tx:
        waiting = tx.reminders_list(states=(ReminderState.PENDING, ReminderState.SENDING),
                                    created_by=None if show_all else caller.person_id)
    if not waiting:
        return Reply("No reminders are waiting." if show_all else "You have no reminders waiting.")
    lines = [f"`{r.id}` {_local(rt, r.due_at)} in {r.channel} by {r.created_by_name}: {_shortened(r.text)}"
             for r in waiting]
    return Reply("\n".join(lines))


def cancel(rt: Runtime, caller: Caller, reminder_id: str) -> Reply:
    with rt.store.transaction() as tx:
        now = rt.now()
        reminder = tx.reminder_get(reminder_id, for_update=True)
        if reminder is None:
            problem = f"there is no reminder `{reminder_id}`"
        elif reminder.created_by != caller.person_id:
            problem = f"it was set by {reminder.created_by_name}; only they can cancel it"
        elif reminder.state is not ReminderState.PENDING:
            problem = f"it is {reminder.state.value}"
        else:
            problem = None
        channel = reminder.channel if reminder else ""
        if problem is not None:
            tx.append_audit(caller.audit("reminder.cancel_refused", reason=problem, rule="reminder.owner",
                                         correlation={"reminder": reminder_id, "channel": channel}), now)
        else:
            assert reminder is not None
            tx.reminder_update(reminder.moved(ReminderState.CANCELLED, cancelled_by=caller.person_id),
                               expected_state=ReminderState.PENDING)
            tx.append_audit(caller.audit("reminder.cancelled", outcome="cancelled",
                                         correlation={"reminder": reminder_id, "channel": channel}), now)
    if problem is not None:
        return Reply(f"Cannot cancel `{reminder_id}`: {problem}.", ok=False)
    return Reply(f"Cancelled reminder `{reminder_id}`.")


class ReminderDelivery:
    """The leader's job: post the reminders that are due, each once."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def deliver_due(self) -> int:
        """Claim and post due reminders; returns how many were posted."""
        with self.rt.store.transaction() as tx:
            claimed = tx.reminders_claim_due(self.rt.now(), limit=BATCH, lease_s=CLAIM_S)
        return sum(self._deliver(reminder) for reminder in claimed)

    def _deliver(self, reminder: Reminder) -> bool:
        repeat = " (sent again: an earlier delivery was interrupted)" if reminder.attempts > 1 else ""
        try:
            self.rt.chat.post(Message(text=f"⏰ Reminder from {reminder.created_by_name}: {reminder.text}{repeat}",
                                      channel=reminder.channel, thread=reminder.thread))
        except Exception:  # not posted, for sure: due again at once, not counted as an interrupted attempt
            log.exception("could not post a reminder; trying again", extra={"reminder": reminder.id})
            self._release(reminder)
            return False
        try:
            with self.rt.store.transaction() as tx:
                now = self.rt.now()
                tx.reminder_update(reminder.moved(ReminderState.SENT, sent_at=now, claimed_until=None),
                                   expected_state=ReminderState.SENDING)
                tx.append_audit(SYSTEM.audit("reminder.sent", outcome="sent", correlation={
                    "reminder": reminder.id, "channel": reminder.channel, "set_by": reminder.created_by,
                    "attempt": str(reminder.attempts)}), now)
        except ConflictError:  # it was cancelled or re-claimed meanwhile; the other side records it
            log.warning("reminder changed while it was posted", extra={"reminder": reminder.id})
        return True

    def _release(self, reminder: Reminder) -> None:
        try:
            with self.rt.store.transaction() as tx:
                tx.reminder_update(reminder.moved(ReminderState.PENDING, claimed_until=None,
                                                  attempts=reminder.attempts - 1), expected_state=ReminderState.SENDING)
        except Exception:  # the claim runs out by itself and the reminder is taken again
            log.exception("could not release a reminder's claim", extra={"reminder": reminder.id})


def _shortened(text: str) -> str:
    return text if len(text) <= _SHOWN_TEXT_CHARS else text[: _SHOWN_TEXT_CHARS - 1] + "…"
