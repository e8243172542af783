"""Reading incidents: show one, export its postmortem draft, list them; and pins (a 📌 in a room)."""

from __future__ import annotations

from opsgate.core.incidents import postmortem, text
from opsgate.core.incidents.desk import Desk
from opsgate.core.incidents.timeline import record_timeline
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import Caller
from opsgate.domain.inbound import Inbound
from opsgate.domain.incident import RoomKind
from opsgate.domain.message import Reply
from opsgate.domain.rooms import RoomUnavailable

SHOWN_ENTRIES = 15
LISTED = 20


class Reading(Desk):
    def show(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        found = self._read(p, i, "show an incident", lambda tx, incident: postmortem.IncidentRecord(
            incident, tx.incident_roles(incident.id), tx.incident_timeline(incident.id), []))
        if isinstance(found, Reply):
            return found
        lines = text.summary(found.incident, found.roles, self.settings)
        latest = found.timeline[-SHOWN_ENTRIES:]
        shown = f", the latest {len(latest)}" if len(latest) < len(found.timeline) else ""
        lines.append(f"Timeline ({len(found.timeline)} entries{shown}):")
        lines += [f"  {text.timeline_line(e, self.rt.pages)}" for e in latest]
        return Reply("\n".join(lines))

    def export(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        found = self._read(p, i, "export", lambda tx, incident: postmortem.gather(tx, incident.id, self.rt.command))
        if isinstance(found, Reply):
            return found
        incident = found.incident
        draft = postmortem.markdown(found, self.settings, self.rt.now(), self.rt.pages)
        if incident.room is RoomKind.NONE or not incident.channel:
            return Reply(draft)
        try:
            self.rooms.share_document(incident.channel, incident.thread, f"postmortem-{incident.id}.md",
                                      f"Postmortem draft: {incident.id} {text.one_line(incident.title)}", draft)
        except RoomUnavailable as err:
            return Reply(f"Could not share the draft as a file in {incident.room_name} ({err.reason}); here it "
                         f"is:\n{draft}")
        return Reply(f"Shared the postmortem draft of `{incident.id}` in {incident.room_name} as "
                     f"postmortem-{incident.id}.md (`opsgate incident export {incident.id}` writes it too).")

    def list_open(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        show_all = bool(p.params.get("all"))
        with self.rt.store.transaction() as tx:
            found = tx.incidents_list(open_only=not show_all, limit=LISTED)
            roles = {incident.id: tx.incident_roles(incident.id) for incident in found}
        if not found:
            return Reply("No incidents yet." if show_all else "No open incidents.")
        now = self.rt.now()
        return Reply("\n".join(text.list_line(x, roles[x.id], self.settings, now) for x in found))

    # -- pins -----------------------------------------------------------------------------------------

    def pin(self, p: ParsedLine, c: Caller, i: Inbound) -> Reply:
        channel, ts = p.params["channel"], p.params["ts"]
        with self.rt.store.transaction() as tx:
            watched = tx.incident_channel_known(channel)
        if not watched:
            return Reply(f"{channel} is no incident's room; nothing was added.", quiet=True)
        try:
            message = self.rooms.fetch_message(channel, ts)
        except RoomUnavailable as err:
            return Reply(f"Could not read that message ({err.reason}); it was not added to the timeline.", ok=False)
        if message is None:
            return Reply("That message was not found; nothing was added to the timeline.", ok=False)
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            incident = tx.incident_in_room(channel, message.thread or message.ts, open_only=False)
            if incident is None:
                return Reply("That message is in no incident's room; nothing was added.", quiet=True)
            if c.person is None:
                problem = f"{c.person_id} is not in the catalog; only catalog people add to timelines"
                tx.append_audit(c.audit("incident.refused", command=p.command.name, rule="identity.known",
                                        reason=problem, correlation={"incident": incident.id, "channel": channel}), now)
                return Reply(f"Not added to the timeline of `{incident.id}`: {problem}.", ok=False)
            author = self._author(message.author)
            said = f"{author}: {message.text}" if author else message.text
            added = record_timeline(tx, incident.id, "pin", said, message.at or now, c, ref=f"{channel}/{ts}",
                                    dedupe=f"pin:{incident.id}:{channel}:{ts}")
            if added:
                self._audit(tx, c, p, "incident.pinned", incident, now, correlation={"message": f"{channel}/{ts}"})
        if not added:
            return Reply(f"That message is in the timeline of `{incident.id}` already.")
        return Reply(f"📌 Added to the timeline of `{incident.id}`.")

    def _author(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        person = self.rt.catalog.identify(self.rooms.platform, user_id)
        return person.name if person else user_id
