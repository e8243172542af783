"""The postmortem draft in Markdown: what the record holds, and marked sections for people to write.

Sections people must write are marked `**TO WRITE**` and hold no invented content. Everything else
comes from the incident, its roles and timeline, and the requests made in its room (parameters as
they may be shown anywhere: secrets redacted, none when the command is no longer known).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from opsgate.core.incidents.text import entry_page, one_line, severity_label
from opsgate.core.incidents.timeline import shown_request
from opsgate.domain.catalog import Command
from opsgate.domain.incident import MILESTONES, ROLES, Incident, IncidentSettings, RoleHolder, TimelineEntry, durations
from opsgate.domain.pages import PageLinks
from opsgate.domain.request import ApprovalRecord, RequestRecord
from opsgate.errors import UserError
from opsgate.ports import Transaction

TO_WRITE = "**TO WRITE**"


@dataclass(frozen=True, slots=True)
class RequestRun:
    record: RequestRecord
    shown: str  # "restart service=web env=prod [prod]", secrets redacted
    approvals: tuple[ApprovalRecord, ...]


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    incident: Incident
    roles: list[RoleHolder]
    timeline: list[TimelineEntry]
    requests: list[RequestRun]


def gather(tx: Transaction, incident_id: str, command_of: Callable[[str], Command | None]) -> IncidentRecord:
    incident = tx.incident_get(incident_id)
    if incident is None:
        raise UserError(f"There is no incident `{incident_id}`.", hint="`incidents all=true` lists the latest.")
    timeline = tx.incident_timeline(incident_id)
    runs: list[RequestRun] = []
    for request_id in dict.fromkeys(e.ref for e in timeline if e.kind == "command" and e.ref):
        record = tx.get_request(request_id)
        if record is None:
            continue
        runs.append(RequestRun(record, shown_request(record, command_of(record.command)),
                               tuple(tx.approvals(request_id))))
    return IncidentRecord(incident, tx.incident_roles(incident_id), timeline, runs)


def markdown(found: IncidentRecord, settings: IncidentSettings, now: datetime, pages: PageLinks = PageLinks()) -> str:
    """`pages`: links to the pages of what timeline entries are about (with a base URL)."""
    incident = found.incident
    lines = [
        f"# Postmortem draft — {incident.id}: {one_line(incident.title)}",
        "",
        f"> Draft written by opsgate on {now:%Y-%m-%d %H:%M} UTC from the incident's record. Sections marked",
        f"> {TO_WRITE} are for the people who worked the incident; everything else comes from the record.",
        "",
        "## Summary",
        "",
        "| | |",
        "| --- | --- |",
        f"| Incident | {incident.id} |",
        f"| Title | {_cell(incident.title)} |",
        f"| Severity | {_cell(severity_label(settings, incident))} |",
        *([f"| Environment | {_cell(incident.environment)} |"] if incident.environment else []),
        f"| Status | {incident.status.value} |",
        f"| Declared | {incident.declared_at:%Y-%m-%d %H:%M} UTC by {_cell(incident.declared_by_name)} |",
    ]
    took = durations(incident)
    for milestone in MILESTONES[1:]:
        when = getattr(incident, f"{milestone}_at")
        value = f"{when:%Y-%m-%d %H:%M} UTC ({took[milestone]} after declaration)" if when else "not yet"
        lines.append(f"| {milestone.capitalize()} | {value} |")
    lines += [
        f"| Ticket | {_cell(incident.ticket_url) if incident.ticket_url else 'none linked'} |",
        f"| Room | {_cell(incident.room_name) if incident.room_name else 'none'} |",
        "",
        f"{TO_WRITE}: what happened, in one paragraph for someone who was not there.",
        "",
        "## Impact",
        "",
        f"{TO_WRITE}: who and what was affected (customers, requests, regions), from when to when, and how badly.",
        "",
        "## Durations",
        "",
        f"- Time to acknowledge: {took.get('acknowledged', 'not reached')}",
        f"- Time to mitigate: {took.get('mitigated', 'not reached')}",
        f"- Time to resolve: {took.get('resolved', 'not reached')}",
        "",
        "## Roles",
        "",
    ]
    held = {h.role: h for h in found.roles}
    for role in ROLES:
        holder = held.get(role)
        lines.append(f"- {role.capitalize()}: " + (
            f"{holder.person_name} (`{holder.person_id}`), since {holder.assigned_at:%Y-%m-%d %H:%M} UTC"
            if holder else "nobody assigned"))
    lines += ["", "## Timeline (UTC)", ""]
    lines += [_timeline_line(e, pages) for e in found.timeline]
    lines += ["", "## Commands run", ""]
    if found.requests:
        lines += ["| request | command | asked by | outcome |", "| --- | --- | --- | --- |"]
        lines += [f"| `{run.record.id}` | {_cell(run.shown)} | {_cell(run.record.requester_name)} | "
                  f"{run.record.state.value} |" for run in found.requests]
    else:
        lines.append("No opsgate commands were run in the incident's room.")
    lines += ["", "## Approvals", ""]
    decisions = [f"- `{run.record.id}` {one_line(run.shown)}: approved by {a.approver_name} ({a.role}) at "
                 f"{a.at:%Y-%m-%d %H:%M} UTC" for run in found.requests for a in run.approvals]
    decisions += [f"- `{run.record.id}` {one_line(run.shown)}: {one_line(run.record.error or 'denied')}"
                  for run in found.requests if run.record.state.value == "denied"]
    lines += decisions or ["No approvals were given or refused."]
    lines += [
        "",
        "## Root cause",
        "",
        f"{TO_WRITE}: why it happened; what made it possible.",
        "",
        "## What went well",
        "",
        f"{TO_WRITE}.",
        "",
        "## What went wrong",
        "",
        f"{TO_WRITE}.",
        "",
        "## Action items",
        "",
        f"{TO_WRITE}: one line each, with an owner and a ticket.",
        "",
        "| action | owner | ticket |",
        "| --- | --- | --- |",
        "",
    ]
    return "\n".join(lines)


def _timeline_line(entry: TimelineEntry, pages: PageLinks) -> str:
    line = f"- {entry.at:%Y-%m-%d %H:%M} **{entry.kind}** — {one_line(entry.text)}"
    line += f" ({entry.actor_name})" if entry.actor_name else ""
    link = entry_page(entry, pages)
    return line + (f" · [{link.label}]({link.url})" if link else "")


def _cell(text: str) -> str:
    """Text fit for one table cell: one line, no column breaks."""
    return one_line(text).replace("|", "\\|")
