"""What every incident command shares: finding the incident a line is about, changing it in one
transaction with its audit record, refusing (audited, answered), and posting to its room and to the
stakeholders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from opsgate.core.incidents.access import Refused
from opsgate.core.incidents.timeline import record_timeline
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import Caller, Runtime
from opsgate.domain.identity import Person
from opsgate.domain.inbound import Inbound
from opsgate.domain.incident import (
    Incident,
    IncidentRuleError,
    IncidentSettings,
    RoleHolder,
    RoomKind,
    normalise_id,
    parse_past_time,
)
from opsgate.domain.message import Link, Message, Reply
from opsgate.ports import IncidentRooms, Transaction

T = TypeVar("T")


class Desk:
    def __init__(self, runtime: Runtime, room_ops: IncidentRooms) -> None:
        self.rt = runtime
        self.rooms = room_ops

    @property
    def settings(self) -> IncidentSettings:
        return self.rt.catalog.incidents

    def _act(self, c: Caller, p: ParsedLine, i: Inbound, verb: str,
             work: Callable[[Transaction, Incident, list[RoleHolder], datetime], T]) -> T | Reply:
        """Run `work` on the incident the line is about, in one transaction; a refusal rolls it back
        and is audited and answered instead."""
        try:
            with self.rt.store.transaction() as tx:
                now = self.rt.now()
                incident = self._locate(tx, p, i, for_update=True)
                return work(tx, incident, tx.incident_roles(incident.id), now)
        except (Refused, IncidentRuleError) as err:
            return self._refused(c, p, i, verb, self._named_id(p, i), err)

    def _read(self, p: ParsedLine, i: Inbound, verb: str, read: Callable[[Transaction, Incident], T]) -> T | Reply:
        """What `read` finds about the incident the line is about; a reply if there is none."""
        with self.rt.store.transaction() as tx:
            try:
                incident = self._locate(tx, p, i, for_update=False)
            except Refused as err:
                return Reply(f"Cannot {verb}: {err}.", ok=False)
            return read(tx, incident)

    def _locate(self, tx: Transaction, p: ParsedLine, i: Inbound, *, for_update: bool) -> Incident:
        """The incident named by `id=`, or else the one whose room the line was typed in."""
        if p.params.get("id"):
            wanted = normalise_id(p.params["id"]) or p.params["id"]
            incident = tx.incident_get(wanted, for_update=for_update)
            if incident is None:
                raise Refused("incident.unknown", f"there is no incident `{wanted}`; `incidents` lists the open ones")
            return incident
        here = tx.incident_in_room(i.channel, i.thread, open_only=False)
        if here is not None:
            return tx.incident_get(here.id, for_update=for_update) or here
        open_now = tx.incidents_list(limit=5)
        listed = ", ".join(f"{x.id} ({x.title})" for x in open_now)
        raise Refused("incident.which", "this is no incident's room, so say which: `id=inc-…` ("
                                        + (f"open: {listed}" if open_now else "no incident is open") + ")")

    def _named_id(self, p: ParsedLine, i: Inbound) -> str | None:
        raw = p.params.get("id")
        return (normalise_id(raw) or raw) if raw else None

    def _named_person(self, named: str, c: Caller) -> Person:
        """A mention (`<@U123>`, `<@U123|name>`) on the caller's platform, or a catalog person id."""
        if named.startswith("<@"):
            user_id = named[2:].rstrip(">").split("|", 1)[0]
            person = self.rt.catalog.identify(c.actor.platform, user_id)
            shown = f"<@{user_id}>"
        else:
            person = self.rt.catalog.person(named.lstrip("@"))
            shown = named
        if person is None:
            raise Refused("incident.person", f"{shown} is not a person in the catalog; mention them (so the chat "
                                             "sends their member id) or give their catalog id")
        return person

    def _groups(self, c: Caller) -> frozenset[str]:
        directory = self.rt.directory
        return directory.group_ids(c.actor.platform, c.actor.user_id) if directory else frozenset()

    def _at(self, p: ParsedLine, now: datetime) -> datetime:
        raw = p.params.get("at")
        if not raw:
            return now
        try:
            return parse_past_time(raw, now)
        except ValueError as err:
            raise Refused("incident.at", f"`at`: {err}") from None

    def _save(self, tx: Transaction, before: Incident, after: Incident, c: Caller) -> None:
        """Write a changed incident; the first acknowledgement also goes into the timeline."""
        if after == before:
            return
        tx.incident_update(after)
        if before.acknowledged_at is None and after.acknowledged_at is not None:
            record_timeline(tx, after.id, "ack", f"Acknowledged by {c.name}", after.acknowledged_at, c)

    def _audit(self, tx: Transaction, c: Caller, p: ParsedLine, event: str, incident: Incident, now: datetime,
               **fields: Any) -> None:
        correlation = {"incident": incident.id, **fields.pop("correlation", {})}
        tx.append_audit(c.audit(event, command=p.command.name, correlation=correlation, **fields), now)

    def _refused(self, c: Caller, p: ParsedLine, i: Inbound, verb: str, incident: str | None,
                 err: Exception) -> Reply:
        rule = err.rule if isinstance(err, Refused) else "incident.lifecycle"
        with self.rt.store.transaction() as tx:
            tx.append_audit(c.audit("incident.refused", command=p.command.name, rule=rule, reason=str(err),
                                    decision="deny", correlation={"channel": i.channel,
                                                                  **({"incident": incident} if incident else {})}),
                            self.rt.now())
        return Reply(f"Cannot {verb}" + (f" `{incident}`" if incident else "") + f": {err}.", ok=False)

    # -- posting --------------------------------------------------------------------------------------

    def _post(self, channel: str, thread: str | None, body: str, links: tuple[Link, ...] = ()) -> None:
        self.rt.chat.post(Message(text=body, channel=channel, thread=thread, links=links))

    def _post_room(self, incident: Incident, body: str) -> list[str]:
        if incident.room is RoomKind.NONE or not incident.channel:
            return []
        self._post(incident.channel, incident.thread, body)
        return [incident.room_name or incident.channel]

    def _post_stakeholders(self, incident: Incident, body: str) -> list[str]:
        channel = self.settings.stakeholder_channel
        if not channel or channel == incident.channel:
            return []
        self._post(channel, None, body)
        return [f"the stakeholders' channel ({channel})"]


SHOWN_ENTRIES = 15
LISTED = 20


def person_of(c: Caller) -> Person:
    assert c.person is not None  # the policy admits only catalog people with a role to these commands
    return c.person
