"""Adding to incidents' timelines: the function other parts call, and what requests made in an
incident's room leave there (asked, approved or denied, finished)."""

from __future__ import annotations

from datetime import datetime

from opsgate.core import render
from opsgate.core.runtime import Caller
from opsgate.domain.catalog import Command
from opsgate.domain.incident import TimelineEntry
from opsgate.domain.request import RequestRecord
from opsgate.ports import Transaction

MAX_ENTRY_CHARS = 4000


def record_timeline(tx: Transaction, incident_id: str, kind: str, text: str, at: datetime, actor: Caller | str,
                    ref: str | None = None, *, dedupe: str | None = None, actor_name: str | None = None) -> bool:
    """Add one entry to an incident's timeline, in the caller's transaction. `actor`: who did it (a
    Caller, or an id such as "opsgate", an alert source or a person id, shown as `actor_name` when
    given); `ref`: what it is about (a request id, an alert group id, a message); `dedupe`: a key
    that makes a repeated report a no-op. Returns False when an entry with that key exists."""
    if isinstance(actor, Caller):
        actor_id, actor_name = actor.person_id, actor.name
    else:
        actor_id, actor_name = actor, actor_name or actor
    return tx.incident_timeline_add(TimelineEntry(
        incident_id=incident_id, at=at, kind=kind, text=text[:MAX_ENTRY_CHARS], actor_id=actor_id,
        actor_name=actor_name, ref=ref, dedupe=dedupe))


def shown_request(record: RequestRecord, command: Command | None) -> str:
    """"restart env=prod service=web [prod]": parameters as they may be shown anywhere (secrets
    redacted; none when the command is no longer known), in one order."""
    shown = render.shown_params(command, record.params) if command else {}
    params = render.params_text(dict(sorted(shown.items())))
    return f"{record.command} {params}".rstrip() + (f" [{record.environment}]" if record.environment else "")


# Request audit events → (timeline kind, how the line reads).
_REQUEST_EVENTS = {
    "request.decided": "command",
    "approval.granted": "approval",
    "request.denied": "approval",
    "execution.succeeded": "command",
    "execution.failed": "command",
}


def note_request(tx: Transaction, event: str, record: RequestRecord, command: Command | None, caller: Caller,
                 now: datetime, detail: str = "") -> None:
    """If `record` was made in an open incident's room, its news goes into that incident's timeline.
    Parameters are shown as they may be shown anywhere (secrets redacted; none when the command is
    unknown)."""
    kind = _REQUEST_EVENTS.get(event)
    if kind is None:
        return
    incident = tx.incident_in_room(record.channel, record.thread)
    if incident is None:
        return
    what = f"`{record.id}` {shown_request(record, command)}"
    if event == "request.decided":
        text = f"{record.requester_name} asked for {what}" + (" (dry run)" if record.dry_run else "") \
            + f" — {render.state_text(record)}"
    elif event == "approval.granted":
        text = f"{caller.name} approved {what}"
    elif event == "request.denied":
        text = f"{caller.name} denied {what}" + (f": {detail}" if detail else "")
    else:
        outcome = "succeeded" if event == "execution.succeeded" else "failed"
        text = f"{what} {outcome}" + (f": {detail.splitlines()[0]}" if detail.strip() else "")
    record_timeline(tx, incident.id, kind, text, now, caller, ref=record.id)
