"""Incidents: what was declared, who holds which role, its status, and the times that measure it.

Lifecycle times stay in order: declared ≤ acknowledged ≤ mitigated ≤ resolved. Statuses move
forward only (declared → investigating → identified → mitigated → resolved, steps may be skipped);
a step may be dated back (`at=`) but never before the step it follows, nor into the future.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import Enum

from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.domain.templates import PLACEHOLDER, fill

ROLES = ("commander", "communications", "operations")
MAX_TITLE_CHARS = 200
CHANNEL_NAME_CHARS = 80  # Slack's limit for a channel name
NAME_PLACEHOLDERS = ("date", "number", "id", "slug", "sev")


class IncidentRuleError(ValueError):
    """A change the incident's rules refuse; the text says what was wrong and what is allowed."""


class Status(str, Enum):
    DECLARED = "declared"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


_ORDER = list(Status)
UPDATE_STATUSES = tuple(s.value for s in _ORDER[1:])  # what `incident update status=` accepts


class RoomKind(str, Enum):
    CHANNEL = "channel"  # a dedicated channel
    THREAD = "thread"  # a thread in the incidents channel
    NONE = "none"  # neither could be opened: the incident is addressed by its id


@dataclass(frozen=True, slots=True)
class Incident:
    id: str  # "inc-12"
    number: int
    title: str
    severity: str
    status: Status
    declared_by: str  # person id
    declared_by_name: str
    declared_at: datetime
    updated_at: datetime
    room: RoomKind = RoomKind.NONE
    channel: str | None = None  # the room's channel (or the incidents channel, for a thread)
    thread: str | None = None  # the thread's root message id, for a thread
    room_name: str | None = None  # "#inc-2026-03-02-checkout" for people to read
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    ticket_url: str | None = None
    environment: str | None = None  # a catalog environment: its alerts join the timeline while open

    @property
    def open(self) -> bool:
        return self.status is not Status.RESOLVED

    def times(self) -> IncidentTimes:
        return IncidentTimes(self.id, self.severity, self.declared_at, self.acknowledged_at, self.mitigated_at,
                             self.resolved_at)


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """The milestones of one incident, for the numbers (time to acknowledge, mitigate, resolve)."""

    incident_id: str
    severity: str
    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None

    def seconds_to(self, milestone: str) -> float | None:
        """Seconds from declaration to `acknowledged`, `mitigated` or `resolved`; None if not reached."""
        at = getattr(self, f"{milestone}_at")
        return None if at is None else (at - self.declared_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RoleHolder:
    role: str
    person_id: str
    person_name: str
    assigned_at: datetime
    assigned_by: str  # person id


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an incident's timeline. `ref` points at what it is about (a request id, an alert
    group, a chat message); `dedupe`, when given, makes a second entry for the same thing a no-op."""

    incident_id: str
    at: datetime
    kind: str  # declared, status, update, role, link, ack, room, command, approval, alert, pin, resolved
    text: str
    actor_id: str
    actor_name: str = ""
    ref: str | None = None
    dedupe: str | None = None
    id: int = 0  # set by the store


# -- the lifecycle rules ------------------------------------------------------------------------

MILESTONES = ("declared", "acknowledged", "mitigated", "resolved")


def _check_when(incident: Incident, what: str, at: datetime, now: datetime) -> None:
    """A step dated `at` may not be in the future, nor before a milestone already recorded."""
    if at > now:
        raise IncidentRuleError(f"{what} at {_hhmm(at)} would be in the future (it is {_hhmm(now)} UTC now)")
    for milestone in reversed(MILESTONES):
        when = getattr(incident, f"{milestone}_at")
        if when is not None and at < when:
            raise IncidentRuleError(
                f"{what} at {_hhmm(at)} would be before {milestone} at {_hhmm(when)}; lifecycle times stay in "
                "order: declared ≤ acknowledged ≤ mitigated ≤ resolved")


def check_note_time(incident: Incident, at: datetime, now: datetime) -> None:
    """A note may be dated back, to any time since the declaration, but not into the future."""
    if at > now:
        raise IncidentRuleError(f"the note at {_hhmm(at)} would be in the future (it is {_hhmm(now)} UTC now)")
    if at < incident.declared_at:
        raise IncidentRuleError(f"the note at {_hhmm(at)} would be before the declaration at {_hhmm(incident.declared_at)}")


def acknowledge(incident: Incident, at: datetime, now: datetime) -> Incident:
    """The first responder action; later ones change nothing."""
    ensure_open(incident)
    if incident.acknowledged_at is not None:
        return incident
    _check_when(incident, "acknowledged", at, now)
    return replace(incident, acknowledged_at=at, updated_at=now)


def advance(incident: Incident, status: Status, at: datetime, now: datetime) -> Incident:
    """Move to `status` at time `at`. Any step acknowledges an incident nobody had acknowledged;
    resolving mitigates one that was not marked mitigated."""
    ensure_open(incident)
    if status is Status.DECLARED:
        raise IncidentRuleError(f"status must be one of {', '.join(UPDATE_STATUSES)}")
    if status.rank < incident.status.rank:
        raise IncidentRuleError(
            f"{incident.id} is {incident.status.value}; statuses move forward only "
            f"({' → '.join(s.value for s in _ORDER)}). Post an update without status= to say more")
    _check_when(incident, status.value, at, now)
    changes: dict[str, datetime] = {}
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = at
    if status.rank >= Status.MITIGATED.rank and incident.mitigated_at is None:
        changes["mitigated_at"] = at
    if status is Status.RESOLVED:
        changes["resolved_at"] = at
    return replace(incident, status=status, updated_at=now, **changes)


def ensure_open(incident: Incident) -> None:
    if not incident.open:
        raise IncidentRuleError(
            f"{incident.id} was resolved at {_hhmm(incident.resolved_at)} UTC; it takes no more changes "
            f"(`incident export id={incident.id}` writes its postmortem draft)")


def durations(incident: Incident | IncidentTimes) -> dict[str, str]:
    """Human durations from declaration to each milestone reached."""
    times = incident.times() if isinstance(incident, Incident) else incident
    out: dict[str, str] = {}
    for milestone in MILESTONES[1:]:
        seconds = times.seconds_to(milestone)
        if seconds is not None:
            out[milestone] = format_duration_s(seconds)
    return out


def _hhmm(when: datetime | None) -> str:
    return "?" if when is None else when.strftime("%Y-%m-%d %H:%M")


# -- names and ids ------------------------------------------------------------------------------

_ID = re.compile(r"^(?:inc-|#)?([0-9]{1,9})$", re.IGNORECASE)


def incident_id(number: int) -> str:
    return f"inc-{number}"


def normalise_id(text: str) -> str | None:
    """"inc-12", "INC-12", "#12" or "12" → "inc-12"; None when it is none of these."""
    match = _ID.match(text.strip())
    return incident_id(int(match.group(1))) if match else None


def slugify(text: str, max_chars: int = 40) -> str:
    """Lowercase ASCII words joined by '-', cut between words: for channel names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > max_chars:
            break
        slug = longer
    return slug or (words[0][:max_chars] if words else "incident")


def channel_name(pattern: str, *, number: int, title: str, severity: str, declared_at: datetime) -> str:
    """The room's name from the configured pattern, as a valid channel name (lowercase letters,
    digits, '-' and '_', at most 80 characters)."""
    values = {"date": declared_at.strftime("%Y-%m-%d"), "number": str(number), "id": incident_id(number),
              "slug": slugify(title), "sev": severity}
    name = re.sub(r"[^a-z0-9_-]+", "-", str(fill(pattern, values)).lower())
    name = re.sub(r"-{2,}", "-", name).strip("-_")[:CHANNEL_NAME_CHARS].rstrip("-_")
    return name or incident_id(number)


def unknown_name_placeholders(pattern: str) -> list[str]:
    return [name for name in PLACEHOLDER.findall(pattern) if name not in NAME_PLACEHOLDERS]


# -- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Severity:
    name: str  # "1", "2", ... as typed in `sev=`
    description: str = ""
    responders: tuple[str, ...] = ()  # person ids invited to the room
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # platform -> group ids (Slack user groups)

    def __hash__(self) -> int:
        return hash(self.name)

    def label(self) -> str:
        return f"sev {self.name}" + (f" ({self.description})" if self.description else "")


DEFAULT_SEVERITIES = (
    Severity("1", "critical: customers cannot use the product"),
    Severity("2", "major: a key feature is down or badly degraded"),
    Severity("3", "minor: degraded, with a workaround"),
    Severity("4", "low: no customer impact yet"),
)


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """The catalog's `incidents:` section."""

    mode: RoomKind = RoomKind.CHANNEL  # CHANNEL or THREAD
    channel: str | None = None  # the incidents channel: announcements, and the threads in thread mode
    channel_name: str = "inc-{date}-{slug}"
    private: bool = False
    stakeholder_channel: str | None = None
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
    declare_roles: tuple[str, ...] = ()  # empty: every person with a role may declare
    link_patterns: tuple[str, ...] = ()  # accepted ticket URLs (full-match); empty: any https:// URL
    declarer_is_commander: bool = True

    def severity(self, name: str) -> Severity | None:
        for severity in self.severities:
            if severity.name.lower() == name.strip().lower():
                return severity
        return None


# -- when something happened (`at=`) ------------------------------------------------------------

AT_FORMS = '"09:05" (the latest 09:05 UTC), "-15m" (15 minutes ago) or "2026-03-02T09:05Z"'
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_AGO = re.compile(r"-(\d+[smhd])+|(\d+[smhd])+-?ago")


def parse_past_time(text: str, now: datetime) -> datetime:
    """The moment `text` names, in the past; ValueError naming the accepted forms."""
    spoken = text.strip().lower().replace(" ", "")
    if match := _CLOCK.fullmatch(spoken):
        moment = now.replace(hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0)
        return moment if moment <= now else moment - timedelta(days=1)
    if _AGO.fullmatch(spoken):
        return now - timedelta(seconds=parse_duration_s(spoken.strip("-").removesuffix("ago").rstrip("-")))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is not a time opsgate reads; use {AT_FORMS}") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
