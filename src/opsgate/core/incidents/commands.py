"""The incident commands as opsgate's own (builtin) commands: parsed, decided and audited like the rest."""

from __future__ import annotations

from opsgate.domain.catalog import Command, CommandClass, Parameter, ParamType
from opsgate.domain.incident import MAX_TITLE_CHARS, ROLES, UPDATE_STATUSES
from opsgate.domain.short_ids import short_id_pattern

MAX_NOTE_CHARS = 2000
INCIDENT_ID = Parameter(
    name="id", required=False, pattern=r"(?i:inc-|#)?[0-9]{1,9}", max_length=13,
    description="an incident id such as inc-12 (default: the incident whose room this is)")
_AT = Parameter(name="at", required=False, max_length=40,
                description='when it happened, if not now: 09:05 (UTC), -15m, or 2026-03-02T09:05Z')
_NOTE = Parameter(name="note", required=False, max_length=MAX_NOTE_CHARS, description="what to tell people")
# A Slack mention (<@U123>, <@U123|name>) or a catalog person id (bob, @bob).
PERSON_PATTERN = r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|@?[a-z][a-z0-9._-]*"


def _command(name: str, summary: str, *params: Parameter, public: bool = False) -> Command:
    return Command(name=name, summary=summary, command_class=CommandClass.READ, action=None, parameters=params,
                   builtin=True, public=public)


def incident_commands() -> list[Command]:
    return [
        _command("incident declare", "Declare an incident: a room, responders invited, a timeline",
                 Parameter(name="title", max_length=MAX_TITLE_CHARS, description="what is wrong, in a line"),
                 Parameter(name="sev", pattern=r"[A-Za-z0-9-]{1,20}",
                           description="its severity, one of the catalog's (by default 1 to 4, 1 the worst)"),
                 # A string, not an environment parameter: declaring must never wait for an
                 # environment's approvals or freezes.
                 Parameter(name="env", required=False, pattern=r"[A-Za-z0-9_.-]{1,64}", max_length=64,
                           description="the environment it is in: its alerts go into the timeline while it is open")),
        _command("incident update", "Post a status update where responders and stakeholders follow",
                 _NOTE, Parameter(name="status", type=ParamType.ENUM, values=UPDATE_STATUSES, required=False),
                 _AT, INCIDENT_ID),
        _command("incident assign", "Give an incident role to a person",
                 Parameter(name="role", type=ParamType.ENUM, values=ROLES),
                 Parameter(name="person", pattern=PERSON_PATTERN, max_length=120,
                           description="a mention (@name) or a catalog person id"),
                 INCIDENT_ID),
        _command("incident ack", "Acknowledge an incident: a responder is on it", _AT, INCIDENT_ID),
        _command("incident link", "Link the incident's ticket, or tie an alert group to it (alert=g-…)",
                 Parameter(name="url", type=ParamType.URL, max_length=500, required=False,
                           description="the ticket's https:// URL"),
                 Parameter(name="alert", pattern=short_id_pattern("g", "a"), max_length=10, required=False,
                           description="an alert group id such as g-7k2m9qd4 (or the id of an alert in it): its "
                                       "alerts go into the timeline"),
                 INCIDENT_ID),
        _command("incident resolve", "Resolve an incident", _NOTE, _AT, INCIDENT_ID),
        _command("incident show", "Show an incident: status, roles, times and its latest timeline", INCIDENT_ID),
        _command("incident export", "Write the incident's postmortem draft (Markdown)", INCIDENT_ID),
        # What a 📌 reaction on a message in an incident's room sends; open to everyone so that a
        # reaction anywhere else is ignored quietly (the handler checks the person in a room).
        _command("incident pin", "Add a chat message to the timeline of the incident whose room it is in",
                 Parameter(name="channel", pattern=r"[A-Za-z0-9#._-]{1,80}", max_length=80),
                 Parameter(name="ts", pattern=r"[0-9]{1,12}(\.[0-9]{1,9})?", max_length=24), public=True),
        _command("incidents", "List open incidents (all=true: the latest, resolved ones too)",
                 Parameter(name="all", type=ParamType.BOOL, default=False, required=False)),
    ]
