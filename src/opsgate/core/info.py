"""Read-only built-ins: help, whoami, explain, requests, audit."""

from __future__ import annotations

from opsgate.core import render
from opsgate.core.lifecycle import Lifecycle
from opsgate.core.parser import check_characters, parse_line, resolve_command, strip_prefix
from opsgate.core.runtime import Caller, Runtime
from opsgate.domain.catalog import Command
from opsgate.domain.identity import PERMISSIONS
from opsgate.domain.message import Reply
from opsgate.domain.request import State
from opsgate.errors import ParseError
from opsgate.policy import decide


def may_run(command: Command, caller: Caller) -> bool:
    """Whether `help` should list the command: the role and permission checks, nothing else."""
    person = caller.person
    if command.public:
        return True
    if person is None or not person.roles:
        return False
    if command.permission and command.permission not in person.permissions:
        return False
    return command.builtin or person.has_role(command.roles)


def help_text(rt: Runtime, caller: Caller, topic: str | None) -> Reply:
    if topic:
        try:  # the topic names a command; its parameters need not be there (`help rollback`)
            check_characters(topic)
            command, _ = resolve_command(strip_prefix(topic).split()[:2], rt.commands)
        except ParseError as err:
            return Reply(str(err), ok=False)
        return Reply(render.command_help(command, rt.catalog))
    mine = [c for c in rt.commands.values() if may_run(c, caller)]
    lines = ["Commands you may run (`/ops help <command>` for details):"]
    for group, members in (("Catalog", [c for c in mine if not c.builtin]), ("opsgate", [c for c in mine if c.builtin])):
        if members:
            lines.append(f"*{group}*")
            lines += [f"  `{c.name}` — {c.summary}" + (f" [{c.command_class.value}]" if not c.builtin else "")
                      for c in sorted(members, key=lambda c: c.name)]
    if caller.person is None:
        lines.append(f"You ({caller.person_id}) are not in the catalog, so only help and whoami are open to you.")
    return Reply("\n".join(lines))


def whoami(caller: Caller) -> Reply:
    actor, person = caller.actor, caller.person
    if person is None:
        return Reply(f"You are {actor.platform}:{actor.user_id}" + (f" ({actor.display_name})" if actor.display_name else "")
                     + ". This id is not in the catalog: you may run only help and whoami.")
    perms = ", ".join(f"{p} ({PERMISSIONS[p]})" for p in sorted(person.permissions)) or "none"
    return Reply(f"You are *{person.name}* (`{person.id}`), signed in as {actor.platform}:{actor.user_id}.\n"
                 f"Roles: {', '.join(sorted(person.roles)) or 'none'}\nPermissions: {perms}")


def explain(rt: Runtime, lifecycle: Lifecycle, caller: Caller, line: str, channel: str, is_dm: bool) -> Reply:
    try:
        parsed = parse_line(line, rt.commands)
    except ParseError as err:
        return Reply(f"That line would be refused before any rule: {err}", ok=False)
    with rt.store.transaction() as tx:
        decision = decide(lifecycle.policy_input(tx, parsed, caller, channel, is_dm))
    return Reply(f"Explaining `{line.strip()}` (nothing was run):\n" + render.explain(decision))


def list_requests(rt: Runtime, caller: Caller, show_all: bool) -> Reply:
    person = caller.person
    pending = (State.AWAITING_CONFIRMATION, State.AWAITING_APPROVAL, State.APPROVED, State.RUNNING)
    with rt.store.transaction() as tx:
        records = tx.list_requests(states=() if show_all else pending, limit=50)
    if person is not None and not show_all:
        records = [r for r in records if r.requester_id == person.id or person.has_role(r.approver_roles)]
    if not records:
        return Reply("No open requests." if not show_all else "No requests yet.")
    lines = [render.request_line(r, rt.command(r.command)) for r in records]
    return Reply("\n".join(lines))


def audit(rt: Runtime, caller: Caller, last: int, person: str | None, request: str | None) -> Reply:
    viewer = caller.person
    assert viewer is not None
    if "audit" not in viewer.permissions:
        if person not in (None, viewer.id):
            return Reply("Only people with the audit permission may read other people's records.", ok=False)
        person = viewer.id  # without the audit permission: your own records only
    with rt.store.transaction() as tx:
        records = tx.recent_audit(limit=last, actor_id=person, request_id=request)
    if not records:
        return Reply("No audit records match.")
    return Reply("\n".join(render.audit_line(r) for r in reversed(records)))
