"""Declaring an incident: its number, the record, then (after the commit) its room, the invitations
and the announcements. A room that cannot be opened never loses the incident: the fallback is said."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from opsgate.core.incidents import access, alert_ties, rooms, text
from opsgate.core.incidents.access import Refused
from opsgate.core.incidents.desk import Desk, person_of
from opsgate.core.incidents.timeline import record_timeline
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import Caller
from opsgate.domain.inbound import Inbound
from opsgate.domain.incident import Incident, RoleHolder, RoomKind, Status, incident_id
from opsgate.domain.message import Link, Mention, Reply
from opsgate.errors import StoreError
from opsgate.ports import Transaction

log = logging.getLogger("opsgate.incidents")

_NUMBER_ATTEMPTS = 20  # replicas declaring at the same moment each take the next free number


class Declaring(Desk):
    def declare(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        settings, person = self.settings, person_of(c)
        title = text.one_line(p.params["title"])
        severity = settings.severity(p.params["sev"])
        try:
            if not title:
                raise Refused("incident.title", "the title is empty; say in a line what is wrong")
            if severity is None:
                known = "; ".join(f"{s.name} ({s.description})" if s.description else s.name for s in settings.severities)
                raise Refused("incident.severity", f"`{p.params['sev']}` is not a severity here; use one of: {known}")
            environment = self._environment(p.params.get("env"))
            access.check_declare(settings, person)
        except Refused as err:
            return self._refused(c, p, i, "declare an incident", None, err)
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            incident = self._insert(tx, title, severity.name, environment, c, now)
            if settings.declarer_is_commander:
                tx.incident_set_role(incident.id, RoleHolder("commander", person.id, c.name, now, person.id))
            in_env = f" in {environment}" if environment else ""
            record_timeline(tx, incident.id, "declared", f"Declared {severity.label()}{in_env}: {title}", now, c)
            alert_ties.note_open_groups(tx, incident, now)
            self._audit(tx, c, p, "incident.declared", incident, now, reason=title, outcome=incident.status.value,
                        environment=environment)
        incident, notes, url = self._open_room(incident, c, p)
        self._announce(incident, c, notes, url)
        lines = [f"Declared {text.headline(incident, settings)}", *(note + "." for note in notes)]
        if settings.declarer_is_commander:
            lines.append(f"Commander: {c.name}, until someone else is assigned.")
        return Reply("\n".join(lines), ephemeral=False)

    def _environment(self, named: str | None) -> str | None:
        """The catalog environment `env=` names (in its declared spelling); None when not given."""
        if not named:
            return None
        known = self.rt.catalog.environments
        found = next((name for name in known if name.lower() == named.lower()), None)
        if found is None:
            listed = ", ".join(known) if known else "none are configured"
            raise Refused("incident.environment", f"`{named}` is not an environment here; use one of: {listed}")
        return found

    def _insert(self, tx: Transaction, title: str, severity: str, environment: str | None, c: Caller,
                now: datetime) -> Incident:
        for _ in range(_NUMBER_ATTEMPTS):
            number = tx.incident_next_number()
            incident = Incident(id=incident_id(number), number=number, title=title, severity=severity,
                                status=Status.DECLARED, declared_by=person_of(c).id, declared_by_name=c.name,
                                declared_at=now, updated_at=now, environment=environment)
            if tx.incident_insert(incident):
                return incident
        raise StoreError(f"no free incident number after {_NUMBER_ATTEMPTS} attempts")

    def _open_room(self, incident: Incident, c: Caller, p: ParsedLine) -> tuple[Incident, list[str], str | None]:
        """After the declaration committed: the room, the invitations, and the record of both."""
        settings = self.settings
        severity = settings.severity(incident.severity)
        responders = list(severity.responders) if severity else []
        groups = severity.groups.get(self.rooms.platform, ()) if severity else ()
        # In a thread the responders are mentioned (there is nobody to invite): all but the declarer.
        user_ids, unnamed = rooms.platform_ids(self.rooms.platform, self.rt.catalog,
                                               [pid for pid in responders if pid != incident.declared_by])
        mentions = tuple(Mention(u) for u in user_ids) + tuple(Mention(g, group=True) for g in groups)
        try:
            opened = rooms.open_room(self.rooms, settings, incident, self._thread_intro(incident), mentions)
        except Exception:  # a bug in an adapter must not hide that the incident exists
            opened = rooms.Opened(incident, [f"Could not open a room ({_internal_error('opening', incident)}): "
                                             f"commands need `id={incident.id}`"])
        if opened.incident.room is RoomKind.THREAD:
            opened.notes += [f"Not notified: {problem}" for problem in unnamed]
        if opened.incident.room is RoomKind.CHANNEL:
            people = [incident.declared_by, *responders]
            try:
                problems = rooms.invite(self.rooms, self.rt.catalog, opened.incident.channel or "", people, groups)
            except Exception:
                problems = [_internal_error("inviting", incident)]
            opened.notes += [f"Not invited: {problem}" for problem in problems]
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            current = tx.incident_get(incident.id, for_update=True) or incident
            placed = replace(current, **_room_fields(opened.incident))
            tx.incident_update(placed)
            record_timeline(tx, incident.id, "room", "; ".join(opened.notes), now, c)
            self._audit(tx, c, p, "incident.room", placed, now, reason="; ".join(opened.notes),
                        outcome=placed.room.value)
        return placed, opened.notes, opened.url

    def _thread_intro(self, incident: Incident) -> str:
        named = [name for pid, name in self._responders(incident) if pid != incident.declared_by]
        return (f"{text.headline(incident, self.settings)}\nDeclared by {incident.declared_by_name}. This thread is the "
                f"incident's room: commands run here and messages marked 📌 go into its timeline."
                + (f"\nResponders: {', '.join(named)}." if named else ""))

    def _responders(self, incident: Incident) -> list[tuple[str, str]]:
        """(person id, name) of the catalog people listed as its severity's responders."""
        severity = self.settings.severity(incident.severity)
        people = self.rt.catalog.people
        return [(pid, people[pid].name) for pid in (severity.responders if severity else ()) if pid in people]

    def _announce(self, incident: Incident, c: Caller, notes: list[str], url: str | None) -> None:
        settings = self.settings
        headline = text.headline(incident, settings)
        links = (Link(f"Open {incident.room_name}", url),) if url else ()
        if incident.room is RoomKind.CHANNEL:
            responders = [name for _, name in self._responders(incident)]
            self._post_room(incident, "\n".join([
                headline,
                f"Declared by {c.name}." + (f" Commander: {c.name}." if settings.declarer_is_commander else ""),
                *([f"Responders invited: {', '.join(responders)}."] if responders else []),
                *[note + "." for note in notes if note.startswith("Not invited")],
                "Here: `/ops incident update status=investigating \"what you know\"` · `/ops incident assign "
                "role=operations @person` · `/ops incident link <ticket>` · `/ops incident resolve`. Commands run "
                "here and messages marked 📌 go into the timeline.",
            ]))
            if settings.channel:
                self._post(settings.channel, None, f"{headline}\nDeclared by {c.name}. Room: {incident.room_name}", links)
        elif incident.room is RoomKind.NONE and settings.channel:
            self._post(settings.channel, None, f"{headline}\nDeclared by {c.name}. It has no room: "
                                               f"use `id={incident.id}` in incident commands.")
        if settings.stakeholder_channel:
            self._post(settings.stakeholder_channel, None,
                       f"{headline}\nDeclared by {c.name}. Status updates follow here.", links)


def _room_fields(incident: Incident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in ("room", "channel", "thread", "room_name")}


def _internal_error(doing: str, incident: Incident) -> str:
    """Log an adapter's failure with a reference people can quote; returns the words for them."""
    ref = secrets.token_hex(4)
    log.exception(f"{doing} an incident room failed", extra={"incident": incident.id, "ref": ref})
    return f"internal error, ref {ref}"
