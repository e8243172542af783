"""One request's records: reading it, its audit entries, and the chat messages about it.

Shared by the lifecycle (deciding, approving) and the execution (running, following) so both
write the same audit fields and post the same way.
"""

from __future__ import annotations

from typing import Any

from opsgate.core import render
from opsgate.core.runtime import Caller, Runtime
from opsgate.domain.audit import AuditEntry
from opsgate.domain.catalog import Command
from opsgate.domain.decision import Decision
from opsgate.domain.message import Button, Link, Message
from opsgate.domain.request import RequestRecord, State
from opsgate.errors import UserError
from opsgate.ports import Transaction


class Records:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def get(self, tx: Transaction, request_id: str, *, for_update: bool = False) -> RequestRecord:
        record = tx.get_request(request_id, for_update=for_update)
        if record is None:
            raise UserError(f"There is no request `{request_id}`.", hint="`requests` lists the open ones.")
        return record

    def command(self, record: RequestRecord) -> Command | None:
        return self.rt.command(record.command)

    def entry(self, caller: Caller, event: str, record: RequestRecord, *, decision: Decision | None = None, **fields: Any) -> AuditEntry:
        command = self.command(record)
        values: dict[str, Any] = dict(
            request_id=record.id,
            command=record.command,
            params=render.shown_params(command, record.params),
            environment=record.environment,
            links=(record.link,) if record.link else (),
            break_glass=bool(record.break_glass_reason),
            correlation={"channel": record.channel, **({"thread": record.thread} if record.thread else {})},
        )
        if decision is not None:
            values.update(decision=decision.kind.value, rule=decision.rule, reason=decision.reason,
                          outcome=record.state.value)
        if "correlation" in fields:
            fields["correlation"] = {**values["correlation"], **fields["correlation"]}
        values.update(fields)
        return caller.audit(event, **values)

    def ask_approvers(self, record: RequestRecord) -> None:
        command = self.command(record)
        glass = f"\n⚠️ BREAK-GLASS: {record.break_glass_reason}" if record.break_glass_reason else ""
        link = f"\nLink: {record.link}" if record.link else ""
        self.rt.chat.post(Message(
            text=f"Approval needed: {render.request_line(record, command)}{link}{glass}",
            channel=record.channel,
            thread=record.thread,
            request_id=record.id,
            buttons=approval_buttons(record),
        ))

    def post(self, record: RequestRecord, text: str) -> None:
        """A message about the request: chat adapters update the request's message in place, so it
        keeps the buttons while approvals are still missing and links to what the run started."""
        buttons = approval_buttons(record) if record.state is State.AWAITING_APPROVAL else ()
        console = record.result.get("correlation", {}).get("console_url")
        links = (Link("AWS console", console),) if console else ()
        self.rt.chat.post(Message(text=text, channel=record.channel, thread=record.thread, request_id=record.id,
                                  buttons=buttons, links=links))


def approval_buttons(record: RequestRecord) -> tuple[Button, ...]:
    return (Button("Approve", f"approve {record.id}", "primary"), Button("Deny", f"deny {record.id}", "danger"))


def target_kind(command: Command | None) -> str | None:
    return command.action.kind if command and command.action else None
