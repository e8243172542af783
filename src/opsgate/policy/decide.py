"""decide(): the one function that says whether a request may run, and which rule decided.

A pure function of (request, person, command, environment state, time). Each rule appends a
Check to the trace so `/ops explain` can show why, and tests can assert on rule ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsgate.domain.catalog import ApprovalRule, Command, Environment
from opsgate.domain.decision import Check, Decision, DecisionKind
from opsgate.domain.durations import format_duration_s
from opsgate.domain.identity import Person
from opsgate.domain.lock import Lock



@dataclass(frozen=True, slots=True)
class PolicyInput:
    command: Command
    params: dict[str, Any]
    person: Person | None
    sender: str  # "platform:user_id", for messages about unknown senders
    channel: str
    is_dm: bool
    now: datetime
    environment: Environment | None = None
    lock: Lock | None = None  # the active lock on the environment, if any
    recent_count: int = 0  # this person's requests for this command inside the rate window
    default_approver_roles: tuple[str, ...] = ()
    dry_run: bool = False
    link: str | None = None
    break_glass: str | None = None
    trace: list[Check] = field(default_factory=list)


class _Decided(Exception):
    def __init__(self, decision_kind: DecisionKind, rule: str, reason: str) -> None:
        self.kind, self.rule, self.reason = decision_kind, rule, reason


def _check(inp: PolicyInput, rule: str, passed: bool, detail: str, *, kind: DecisionKind = DecisionKind.DENY) -> None:
    inp.trace.append(Check(rule, passed, detail))
    if not passed:
        raise _Decided(kind, rule, detail)


def decide(inp: PolicyInput) -> Decision:
    try:
        return _decide(inp)
    except _Decided as stop:
        return Decision(stop.kind, stop.rule, stop.reason, checks=tuple(inp.trace))


def _decide(inp: PolicyInput) -> Decision:
    command = inp.command
    if command.public:
        inp.trace.append(Check("builtin.public", True, f"`{command.name}` is open to everyone"))
        return Decision(DecisionKind.ALLOW, "builtin.public", "open to everyone", checks=tuple(inp.trace))
    _check_access(inp)
    if not command.command_class.mutating:
        return _allow(inp, "read.allow", f"`{command.name}` only reads")
    if inp.dry_run:
        real = decide(_replace_trace(inp))
        notes = "" if real.kind is DecisionKind.ALLOW else f" A real run: {real.reason}"
        inp.trace.append(Check("dry-run", True, "a dry run describes the calls and makes none." + notes))
        return _allow(inp, "dry-run", "a dry run makes no calls." + notes)
    break_glass = _check_freeze_and_lock(inp)
    rules = command.rules_for(inp.environment.name if inp.environment else None)
    _check_link(inp, rules.link)
    confirm_text = None
    if rules.confirm or (rules.confirm is None and command.command_class.value == "destructive"):
        confirm_text = inp.environment.name if inp.environment else command.name
        inp.trace.append(Check("confirm.typed", True, f"needs the typed confirmation `{confirm_text}`"))
    approval = rules.approval
    if approval is None and inp.environment is not None and inp.environment.protected:
        approval = ApprovalRule(count=1, implied=True)  # protected environments: one approval unless declared
    if break_glass and (approval is None or approval.count < 1):
        approval = ApprovalRule(count=1)
    if approval is None:
        inp.trace.append(Check("approval.none", True, "no approval needed here"))
        kind = DecisionKind.CONFIRM if confirm_text else DecisionKind.ALLOW
        return _decision(inp, kind, "confirm.typed" if confirm_text else "policy.allow",
                         "needs typed confirmation" if confirm_text else "allowed", confirm_text=confirm_text)
    roles = approval.roles or inp.default_approver_roles
    where = f" in {inp.environment.name}" if inp.environment else ""
    rule = "approval.break-glass" if break_glass else ("approval.protected-env" if approval.implied else "approval.command")
    reason = f"needs {approval.count} approval{'s' if approval.count > 1 else ''}{where} by {', '.join(roles) or 'nobody (no role may approve)'}"
    inp.trace.append(Check(rule, True, reason))
    return _decision(
        inp,
        DecisionKind.CONFIRM if confirm_text else DecisionKind.APPROVE,
        rule,
        reason,
        confirm_text=confirm_text,
        approvals_required=approval.count,
        approver_roles=roles,
        approval_ttl_s=approval.ttl_s,
        break_glass=break_glass,
    )


def _check_access(inp: PolicyInput) -> None:
    command, person = inp.command, inp.person
    _check(inp, "identity.known", person is not None,
           f"{inp.sender} is not in the catalog; only help and whoami are open. Ask an admin to add this id."
           if person is None else f"you are {person.id}")
    assert person is not None
    _check(inp, "rbac.has-role", bool(person.roles),
           f"{person.id} holds no role; only help and whoami are open" if not person.roles else
           "roles: " + ", ".join(sorted(person.roles)))
    if command.builtin:
        inp.trace.append(Check("rbac.command", True, "opsgate's own command, open to every person with a role"))
    else:
        granting = sorted(person.roles.intersection(command.roles))
        _check(inp, "rbac.command", bool(granting),
               f"`{command.name}` needs one of the roles: {', '.join(command.roles) or 'none declared'}"
               if not granting else f"granted by role {', '.join(granting)}")
    if command.permission:
        _check(inp, "rbac.permission", command.permission in person.permissions,
               f"`{command.name}` needs the `{command.permission}` permission")
    _check_channel(inp)
    _check_arguments(inp)
    if command.rate_limit:
        limit = command.rate_limit
        window = format_duration_s(limit.per_s)
        _check(inp, "rate-limit", inp.recent_count < limit.count,
               f"{inp.recent_count} of {limit.count} `{command.name}` requests per {window} used"
               if inp.recent_count < limit.count else
               f"you reached the limit of {limit.count} `{command.name}` requests per {window}; try again later")


def _check_channel(inp: PolicyInput) -> None:
    command = inp.command
    if inp.is_dm:
        _check(inp, "channel.dm", command.allow_dm, f"`{command.name}` cannot be run in a direct message"
               if not command.allow_dm else "direct messages allowed")
    elif command.channels:
        _check(inp, "channel.allowed", inp.channel in command.channels,
               f"`{command.name}` may only be run in: {', '.join(command.channels)}"
               if inp.channel not in command.channels else f"channel {inp.channel} allowed")


def _check_arguments(inp: PolicyInput) -> None:
    command, person = inp.command, inp.person
    assert person is not None
    if command.builtin or not command.argument_rules:
        return
    granting = person.roles.intersection(command.roles)
    ruled = {r.role for r in command.argument_rules}
    if granting - ruled:
        inp.trace.append(Check("rbac.argument", True, f"role {', '.join(sorted(granting - ruled))} is not limited"))
        return
    permitted = [r for r in command.argument_rules if r.role in granting and r.permits(inp.params)]
    limits = "; or ".join(
        " ".join(f"{k}={'|'.join(v)}" for k, v in r.allow.items()) + f" (as {r.role})"
        for r in command.argument_rules if r.role in granting
    )
    _check(inp, "rbac.argument", bool(permitted),
           f"you may run `{command.name}` only with {limits}" if not permitted else f"within {limits}")


def _check_freeze_and_lock(inp: PolicyInput) -> bool:
    """Return True when break-glass is used (and permitted) to pass a freeze or a lock."""
    env, person = inp.environment, inp.person
    assert person is not None
    if env is None:
        return False
    obstacles: list[tuple[str, str]] = []
    for window in env.freezes:
        until = window.active_until(inp.now)
        if until is not None:
            obstacles.append(("freeze", f"{env.name} is in the change freeze {window.describe()} until {until:%Y-%m-%d %H:%M %Z}"))
            break
    if inp.lock is not None and inp.lock.active(inp.now) and inp.lock.holder_id != person.id:
        lock = inp.lock
        obstacles.append(("lock", f"{env.name} is locked by {lock.holder_name or lock.holder_id} until "
                                  f"{lock.expires_at:%Y-%m-%d %H:%M} UTC: {lock.reason}"))
    if not obstacles:
        inp.trace.append(Check("freeze-lock", True, f"{env.name} is not frozen or locked by another person"))
        return False
    rule, reason = obstacles[0]
    if inp.break_glass:
        _check(inp, "break-glass.permission", "break-glass" in person.permissions,
               f"{reason}; you do not hold the break-glass permission")
        inp.trace.append(Check("break-glass", True, f"{reason}; break-glass used: {inp.break_glass}"))
        return True
    _check(inp, rule, False, f"{reason}. Someone with break-glass may override with --break-glass \"why\"",
           kind=DecisionKind.BLOCKED)
    return False


def _check_link(inp: PolicyInput, link_rule) -> None:
    if link_rule is None or not link_rule.required:
        return
    accepted = ", ".join(link_rule.patterns) if link_rule.patterns else "any https:// URL"
    where = f" in {inp.environment.name}" if inp.environment else ""
    if not inp.link:
        _check(inp, "link.required", False,
               f"`{inp.command.name}`{where} needs --link to a ticket, incident or pull request ({accepted})")
    _check(inp, "link.required", link_rule.accepts(inp.link),
           f"the link is not one of the accepted kinds ({accepted})" if not link_rule.accepts(inp.link)
           else "link accepted")


def _replace_trace(inp: PolicyInput) -> PolicyInput:
    from dataclasses import replace

    return replace(inp, dry_run=False, trace=[])


def _allow(inp: PolicyInput, rule: str, reason: str) -> Decision:
    inp.trace.append(Check(rule, True, reason))
    return Decision(DecisionKind.ALLOW, rule, reason, checks=tuple(inp.trace))


def _decision(inp: PolicyInput, kind: DecisionKind, rule: str, reason: str, **extra: Any) -> Decision:
    return Decision(kind, rule, reason, checks=tuple(inp.trace), **extra)


def execution_guard(inp: PolicyInput, *, break_glass_granted: bool) -> Decision:
    """Re-check just before running an approved request: a freeze or lock may have started. As in
    `decide`, freezes and locks hold back changes only: reads and dry runs still run."""
    try:
        if not break_glass_granted and inp.command.command_class.mutating and not inp.dry_run:
            _check_freeze_and_lock(inp)
        _check_access(inp)
    except _Decided as stop:
        return Decision(stop.kind, stop.rule, stop.reason, checks=tuple(inp.trace))
    return Decision(DecisionKind.ALLOW, "execution.guard", "still allowed", checks=tuple(inp.trace))
