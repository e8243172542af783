"""The incident commands: declare, update, assign, ack, link, resolve, show, export, list, pin.

Every change and its audit record are written in one transaction; refusals are audited too. Chat
operations (opening the room, inviting, posting) happen after the commit, so an incident is never
lost to a chat outage: a room that cannot be opened falls back to a thread, or to none, and says so.
"""

from __future__ import annotations

from collections.abc import Callable

from opsgate.core.incidents.declaring import Declaring
from opsgate.core.incidents.reading import Reading
from opsgate.core.incidents.working import Working
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import Caller
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply

Handler = Callable[[ParsedLine, Caller, Inbound], Reply]


class Incidents(Declaring, Working, Reading):
    def handlers(self) -> dict[str, Handler]:
        return {
            "incident declare": self.declare,
            "incident update": self.update,
            "incident assign": self.assign,
            "incident ack": self.ack,
            "incident link": self.link,
            "incident resolve": self.resolve,
            "incident show": self.show,
            "incident export": self.export,
            "incident pin": self.pin,
            "incidents": self.list_open,
        }
