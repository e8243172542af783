"""Scheduled checks: a read command line on a cron schedule, posted only when its result changes.

The leader's `schedules` job calls `run_due()` every few seconds. For each schedule it finds the
latest fire time that has come since the one handled last (missed fire times are coalesced into
one run; fire times older than MISFIRE_GRACE are dropped), and sends the line through
`Dispatcher.handle` as the schedule's service identity (a catalog person with a `schedule`
identity), so the policy, the request record and the audit log treat it like any other line.
The idempotency key is the schedule's name plus the fire time: a fire time that reaches the
dispatcher twice (two replicas at a leadership hand-over) runs once.

The result (outcome and summary) is hashed; a hash different from the last one is posted to the
schedule's channel, an equal one is not. The first result after opsgate starts watching a
schedule counts as a change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from opsgate import log_context
from opsgate.core.dispatcher import Dispatcher
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Message, Reply
from opsgate.domain.request import State
from opsgate.domain.schedule import SCHEDULE_PLATFORM, CheckState, Schedule, result_hash

log = logging.getLogger("opsgate.schedules")

MISFIRE_GRACE = timedelta(days=1)
NO_RECORD = "opsgate could not run it; the operators' logs have the details"
_MARKS = {State.SUCCEEDED: "✅", State.FAILED: "❌", State.DENIED: "🚫"}


def latest_due(schedule: Schedule, after: datetime, now: datetime) -> datetime | None:
    """The latest fire time in (after, now], not older than MISFIRE_GRACE; None if there is none."""
    due = schedule.next_fire(max(after, now - MISFIRE_GRACE))
    if due is None or due > now:
        return None
    while (following := schedule.next_fire(due)) is not None and following <= now:
        due = following
    return due


class ScheduledChecks:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.rt = dispatcher.rt

    def run_due(self) -> int:
        """Run each schedule whose time has come; returns how many ran. One broken schedule does
        not hold up the others."""
        ran = 0
        for schedule in self.rt.catalog.schedules:
            try:
                with log_context.bound(schedule=schedule.name):
                    ran += self._run(schedule)
            except Exception:
                log.exception("scheduled check failed")
        return ran

    def _run(self, schedule: Schedule) -> int:
        now = self.rt.now()
        with self.rt.store.transaction() as tx:
            state = tx.check_state(schedule.name)
            if state is None:  # first seen: its first run is the next fire time after now
                tx.check_state_save(CheckState(schedule.name, now), previous_fire_at=None)
                return 0
        due = latest_due(schedule, state.last_fire_at, now)
        if due is None:
            return 0
        reply = self.dispatcher.handle(Inbound(
            actor=Actor(SCHEDULE_PLATFORM, schedule.actor_id, f"schedule {schedule.name}"),
            text=schedule.line, channel=schedule.channel, idempotency_key=schedule.idempotency_key(due)))
        if reply.repeat:  # another process ran this fire time; it records and posts the result
            return 0
        outcome, text = self._result(reply)
        digest = result_hash(outcome, text)
        changed = digest != state.last_hash
        updated = CheckState(schedule.name, due, digest, reply.request_id, now if changed else state.changed_at)
        with self.rt.store.transaction() as tx:
            saved = tx.check_state_save(updated, previous_fire_at=state.last_fire_at)
        if saved and changed:
            self._post(schedule, outcome, text, reply.request_id)
        return 1

    def _result(self, reply: Reply) -> tuple[str, str]:
        """(outcome, text) of a scheduled run: what is compared between runs and shown."""
        if reply.request_id is None:  # not even a request record: a store or internal failure
            log.error("scheduled check made no request", extra={"reply": reply.text[:200]})
            return "error", NO_RECORD
        with self.rt.store.transaction() as tx:
            record = tx.get_request(reply.request_id)
        if record is None:
            return "error", NO_RECORD
        if record.state is State.SUCCEEDED:
            return record.state.value, str(record.result.get("summary", ""))
        return record.state.value, record.error or record.state.value.replace("_", " ")

    def _post(self, schedule: Schedule, outcome: str, text: str, request_id: str | None) -> None:
        mark = next((m for state, m in _MARKS.items() if state.value == outcome), "⚠️")
        head = f"{mark} Scheduled check *{schedule.name}* (`{schedule.line}`) has a new result"
        self.rt.chat.post(Message(text=f"{head}:\n{text}".rstrip(), channel=schedule.channel, request_id=request_id))
