"""Chat text about incidents: one-line summaries, roles, times, timeline lines."""

from __future__ import annotations

from datetime import datetime

from opsgate.domain.durations import format_duration_s
from opsgate.domain.incident import ROLES, Incident, IncidentSettings, RoleHolder, Status, TimelineEntry, durations
from opsgate.domain.message import Link
from opsgate.domain.pages import PAGE_LABELS, PageLinks

STATUS_MARKS = {Status.DECLARED: "🚨", Status.INVESTIGATING: "🔎", Status.IDENTIFIED: "🧭", Status.MITIGATED: "🩹",
                Status.RESOLVED: "✅"}


def one_line(text: str) -> str:
    return " ".join(text.split())


def severity_label(settings: IncidentSettings, incident: Incident) -> str:
    severity = settings.severity(incident.severity)
    return severity.label() if severity else f"sev {incident.severity}"


def headline(incident: Incident, settings: IncidentSettings) -> str:
    """🩹 `inc-12` · sev 2 (major: …) · *mitigated* · Checkout returns 500s"""
    return (f"{STATUS_MARKS[incident.status]} `{incident.id}` · {severity_label(settings, incident)} · "
            f"*{incident.status.value}* · {incident.title}")


def roles_line(roles: list[RoleHolder]) -> str:
    held = {h.role: h for h in roles}
    return " · ".join(f"{role.capitalize()}: {held[role].person_name if role in held else '—'}" for role in ROLES)


def times_line(incident: Incident) -> str:
    parts = [f"declared {incident.declared_at:%Y-%m-%d %H:%M} UTC by {incident.declared_by_name}"]
    for milestone, took in durations(incident).items():
        parts.append(f"{milestone} after {took}")
    return "; ".join(parts)


def timeline_line(entry: TimelineEntry, pages: PageLinks = PageLinks()) -> str:
    who = f" — {entry.actor_name}" if entry.actor_name else ""
    link = entry_page(entry, pages)
    return f"{entry.at:%H:%M} {entry.kind}: {one_line(entry.text)}{who}" + (f" {link.url}" if link else "")


# What a timeline entry's `ref` is, by its id's prefix: the kind of page it has.
_REF_PAGES = {"r-": "request", "g-": "alert-group"}


def entry_page(entry: TimelineEntry, pages: PageLinks) -> Link | None:
    """The page of what the entry is about (a request, an alert group); None without a base URL."""
    kind = _REF_PAGES.get((entry.ref or "")[:2])
    url = pages.url(kind, entry.ref) if kind else None
    return Link(PAGE_LABELS[kind], url) if kind and url else None


def list_line(incident: Incident, roles: list[RoleHolder], settings: IncidentSettings, now: datetime) -> str:
    commander = next((h.person_name for h in roles if h.role == "commander"), "none")
    room = f" · {incident.room_name}" if incident.room_name else ""
    age = format_duration_s((now - incident.declared_at).total_seconds())
    return f"{headline(incident, settings)} · commander {commander}{room} · declared {age} ago"


def summary(incident: Incident, roles: list[RoleHolder], settings: IncidentSettings) -> list[str]:
    lines = [headline(incident, settings), roles_line(roles), times_line(incident)]
    if incident.environment:
        lines.append(f"Environment: {incident.environment} (its alerts go into the timeline)")
    if incident.room_name:
        lines.append(f"Room: {incident.room_name}")
    if incident.ticket_url:
        lines.append(f"Ticket: {incident.ticket_url}")
    return lines
