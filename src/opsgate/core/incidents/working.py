"""Working an incident: status updates, roles, acknowledgement, the ticket and tied alert groups,
resolution. Each runs in one transaction on the locked incident; the room and the stakeholders hear
of it after the commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from opsgate.core.incidents import access, alert_ties, rooms, text
from opsgate.core.incidents.access import Refused
from opsgate.core.incidents.desk import Desk, person_of
from opsgate.core.incidents.timeline import record_timeline
from opsgate.core.notifications.messages import group_title
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import Caller
from opsgate.domain.catalog import LinkRule
from opsgate.domain.inbound import Inbound
from opsgate.domain.incident import (
    Incident,
    RoleHolder,
    RoomKind,
    Status,
    acknowledge,
    advance,
    check_note_time,
    durations,
    ensure_open,
)
from opsgate.domain.message import Reply
from opsgate.ports import Transaction


class Working(Desk):
    def update(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        note = (p.params.get("note") or "").strip()
        status = Status(p.params["status"]) if p.params.get("status") else None
        person = person_of(c)
        groups = self._groups(c)  # read before the transaction: it may ask the chat platform

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> tuple[Incident, bool]:
            access.check_work(incident, roles, self.settings, person, c.actor.platform, groups)
            at = self._at(p, now)
            moves = status is not None and status is not incident.status
            if not moves and not note:
                raise Refused("incident.update", f"{incident.id} is already {incident.status.value}; add a note to "
                                                 "post an update" if status else
                              'give a status= and/or a note: `incident update status=mitigated "what changed"`')
            if moves:
                changed = advance(incident, status, at, now)
            else:
                check_note_time(incident, at, now)
                changed = acknowledge(incident, at, now)
            self._save(tx, incident, changed, c)
            if moves:
                entry = f"{incident.status.value} → {changed.status.value}" + (f": {note}" if note else "")
                record_timeline(tx, incident.id, "status", entry, at, c)
            else:
                record_timeline(tx, incident.id, "update", note, at, c)
            self._audit(tx, c, p, "incident.updated", changed, now, reason=note or None, outcome=changed.status.value)
            return changed, moves

        done = self._act(c, p, i, "update the incident", work)
        if isinstance(done, Reply):
            return done
        incident, moved = done
        said = f"{text.headline(incident, self.settings)}" + (f"\n{note}" if note else "") + f"\n— {c.name}"
        where = self._post_room(incident, ("📣 " if not moved else "") + said)
        where += self._post_stakeholders(incident, said)
        return Reply(f"Posted the update of `{incident.id}`" + (f" to {' and '.join(where)}" if where else "") + ".")

    def assign(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        role = p.params["role"]
        person = person_of(c)
        try:
            target = self._named_person(p.params["person"], c)
        except Refused as err:
            return self._refused(c, p, i, f"assign {role}", None, err)

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> Incident:
            access.check_command(incident, roles, person)
            ensure_open(incident)
            before = next((h for h in roles if h.role == role), None)
            tx.incident_set_role(incident.id, RoleHolder(role, target.id, target.name, now, person.id))
            self._save(tx, incident, acknowledge(incident, now, now), c)
            was = f" (was {before.person_name})" if before and before.person_id != target.id else ""
            record_timeline(tx, incident.id, "role", f"{target.name} is {role}{was}", now, c)
            self._audit(tx, c, p, "incident.role-assigned", incident, now, reason=f"{role}: {target.id}",
                        outcome="assigned")
            return incident

        done = self._act(c, p, i, f"assign {role}", work)
        if isinstance(done, Reply):
            return done
        problems: list[str] = []
        if done.room is RoomKind.CHANNEL and done.channel:
            problems = rooms.invite(self.rooms, self.rt.catalog, done.channel, [target.id], ())
        self._post_room(done, f"👤 {target.name} is now {role} of `{done.id}` (assigned by {c.name}).")
        extra = "".join(f"\nNot invited: {problem}." for problem in problems)
        return Reply(f"{target.name} is now {role} of `{done.id}`.{extra}")

    def ack(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        person = person_of(c)
        groups = self._groups(c)  # read before the transaction: it may ask the chat platform

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> tuple[Incident, bool]:
            access.check_work(incident, roles, self.settings, person, c.actor.platform, groups)
            ensure_open(incident)
            if incident.acknowledged_at is not None:
                return incident, False
            changed = acknowledge(incident, self._at(p, now), now)
            self._save(tx, incident, changed, c)
            self._audit(tx, c, p, "incident.acknowledged", changed, now, outcome=changed.status.value)
            return changed, True

        done = self._act(c, p, i, "acknowledge the incident", work)
        if isinstance(done, Reply):
            return done
        incident, now_acked = done
        if not now_acked:
            return Reply(f"`{incident.id}` was acknowledged already, at {incident.acknowledged_at:%H:%M} UTC.")
        self._post_room(incident, f"👋 {c.name} acknowledged `{incident.id}`.")
        return Reply(f"Acknowledged `{incident.id}` at {incident.acknowledged_at:%H:%M} UTC.")

    def link(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        url, alert = p.params.get("url"), p.params.get("alert")
        if bool(url) == bool(alert):
            return self._refused(c, p, i, "link", self._named_id(p, i), Refused(
                "incident.link", "give a ticket's https:// URL, or alert=g-… to tie an alert group, one at a time"))
        if alert:
            return self._tie_group(p, c, i, alert)
        person = person_of(c)
        groups = self._groups(c)  # read before the transaction: it may ask the chat platform
        rule = LinkRule(required=True, patterns=self.settings.link_patterns)

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> Incident:
            access.check_work(incident, roles, self.settings, person, c.actor.platform, groups)
            if not rule.accepts(url):
                accepted = ", ".join(rule.patterns) if rule.patterns else "any https:// URL"
                raise Refused("incident.link", f"the link is not one of the accepted kinds ({accepted})")
            was = f" (was {incident.ticket_url})" if incident.ticket_url and incident.ticket_url != url else ""
            changed = replace(incident, ticket_url=url, updated_at=now)
            tx.incident_update(changed)
            record_timeline(tx, incident.id, "link", f"Ticket: {url}{was}", now, c)
            self._audit(tx, c, p, "incident.linked", changed, now, links=(url,), outcome="linked")
            return changed

        done = self._act(c, p, i, "link a ticket", work)
        if isinstance(done, Reply):
            return done
        self._post_room(done, f"🔗 Ticket for `{done.id}`: {url}")
        return Reply(f"Linked {url} to `{done.id}`.")

    def _tie_group(self, p: ParsedLine, c: Caller, i: Inbound, short_id: str) -> Reply:
        """`incident link alert=g-…`: the group's alerts go into the timeline, from their start."""
        person = person_of(c)
        groups = self._groups(c)  # read before the transaction: it may ask the chat platform

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> tuple[Incident, str, bool]:
            access.check_work(incident, roles, self.settings, person, c.actor.platform, groups)
            ensure_open(incident)
            tx.alerts_lock()  # the group as grouping leaves it, not half-way through a batch
            group = tx.alert_group_get(short_id)
            if group is None:
                raise Refused("incident.alert", f"there is no alert group or alert `{short_id}`; group ids (g-…) are "
                                                "on the group's message and page")
            title = f"{group.id} ({group_title(group)})"
            if not tx.incident_link_group(incident.id, group.id, person.id, now):
                return incident, title, False
            record_timeline(tx, incident.id, "alert", f"{c.name} tied alert group {title} to the incident", now, c,
                            ref=group.id)
            alert_ties.note_changes(tx, [(group, list(group.state.alerts))], now)
            self._audit(tx, c, p, "incident.alert-linked", incident, now, target=group.id, outcome="linked",
                        correlation={"group": group.id})
            return incident, title, True

        done = self._act(c, p, i, "tie an alert group", work)
        if isinstance(done, Reply):
            return done
        incident, title, tied = done
        if not tied:
            return Reply(f"Alert group {title} is tied to `{incident.id}` already.")
        self._post_room(incident, f"🔔 Alert group {title} is tied to `{incident.id}` (by {c.name}): its alerts go "
                                  "into the timeline.")
        return Reply(f"Tied alert group {title} to `{incident.id}`: its alerts go into the timeline.")

    def resolve(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        note = (p.params.get("note") or "").strip()
        person = person_of(c)

        def work(tx: Transaction, incident: Incident, roles: list[RoleHolder], now: datetime) -> Incident:
            access.check_command(incident, roles, person)
            at = self._at(p, now)
            changed = advance(incident, Status.RESOLVED, at, now)
            self._save(tx, incident, changed, c)
            took = ", ".join(f"{m} after {d}" for m, d in durations(changed).items())
            record_timeline(tx, incident.id, "resolved", f"Resolved ({took})" + (f": {note}" if note else ""), at, c)
            self._audit(tx, c, p, "incident.resolved", changed, now, reason=note or None, outcome="resolved")
            return changed

        done = self._act(c, p, i, "resolve the incident", work)
        if isinstance(done, Reply):
            return done
        took = "; ".join(f"{m} after {d}" for m, d in durations(done).items())
        said = (f"{text.headline(done, self.settings)}\n{took.capitalize()}." + (f"\n{note}" if note else "")
                + f"\n— {c.name}. Postmortem draft: `/ops incident export id={done.id}`")
        self._post_room(done, said)
        self._post_stakeholders(done, said)
        if done.room is not RoomKind.NONE and self.settings.channel and done.channel != self.settings.channel:
            self._post(self.settings.channel, None, f"{text.headline(done, self.settings)} · {took}")
        return Reply(f"Resolved `{done.id}`: {took}.")
