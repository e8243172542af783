"""Who may do what with an incident. Deny by default: each check names what would have allowed it.

  declare              a member of `incidents.declare_roles` (empty: anyone with a role)
  update, ack, link    a holder of one of the incident's roles, the person who declared it, a
                       responder of its severity (listed, or in one of its groups), or the
                       `incident-manage` permission
  assign, resolve      its commander (while it has none: the person who declared it), or
                       `incident-manage`
  show, export, list   anyone with a role (the policy already requires one)
"""

from __future__ import annotations

from opsgate.domain.identity import Person
from opsgate.domain.incident import Incident, IncidentSettings, RoleHolder

MANAGE = "incident-manage"


class Refused(Exception):
    """A refusal to audit and answer: `rule` names the check, the text says what would be allowed."""

    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule


def check_declare(settings: IncidentSettings, person: Person) -> None:
    if settings.declare_roles and not person.has_role(settings.declare_roles) and MANAGE not in person.permissions:
        raise Refused("incident.declare", f"declaring needs one of the roles {', '.join(settings.declare_roles)} "
                                          f"or the `{MANAGE}` permission")


def commander(incident: Incident, roles: list[RoleHolder]) -> str:
    """The person id in command: the commander, or while there is none the person who declared."""
    for holder in roles:
        if holder.role == "commander":
            return holder.person_id
    return incident.declared_by


def check_work(incident: Incident, roles: list[RoleHolder], settings: IncidentSettings, person: Person,
               platform: str, group_ids: frozenset[str]) -> None:
    """`group_ids`: the chat groups the person is in on `platform` (a severity's responder groups)."""
    severity = settings.severity(incident.severity)
    allowed = {h.person_id for h in roles} | {incident.declared_by} | set(severity.responders if severity else ())
    responder_group = severity is not None and not group_ids.isdisjoint(severity.groups.get(platform, ()))
    if person.id not in allowed and not responder_group and MANAGE not in person.permissions:
        raise Refused("incident.responder", f"only its role holders, the person who declared it, the responders of "
                                            f"sev {incident.severity} or someone with `{MANAGE}` may do that")


def check_command(incident: Incident, roles: list[RoleHolder], person: Person) -> None:
    if person.id != commander(incident, roles) and MANAGE not in person.permissions:
        raise Refused("incident.commander", f"only its commander or someone with `{MANAGE}` may do that")
