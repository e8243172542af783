"""The request lifecycle: submit → confirm → approve → run → succeeded | failed.

Every state change and its audit record are written in one transaction; the automation runs only
after that transaction committed, so an unwritable audit log means nothing runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

from opsgate import log_context
from opsgate.core import render
from opsgate.core.parser import ParsedLine
from opsgate.core.execution import Execution
from opsgate.core.incidents.timeline import note_request
from opsgate.core.records import Records
from opsgate.core.runtime import SYSTEM, Caller, Runtime
from opsgate.domain.catalog import ApprovalRule, Command
from opsgate.domain.decision import Decision, DecisionKind
from opsgate.domain.message import Reply
from opsgate.domain.request import ApprovalRecord, RequestRecord, State, binding_hash, new_request_id
from opsgate.errors import ConflictError
from opsgate.policy import PolicyInput, check_approval, decide
from opsgate.ports import Transaction

CONFIRM_TTL_S = 900
M = TypeVar("M", bound=Callable[..., Reply])
_NEXT_STATE = {
    DecisionKind.ALLOW: State.APPROVED,
    DecisionKind.CONFIRM: State.AWAITING_CONFIRMATION,
    DecisionKind.APPROVE: State.AWAITING_APPROVAL,
    DecisionKind.DENY: State.DENIED,
    DecisionKind.BLOCKED: State.DENIED,
}


def _about_request(method: M) -> M:
    """A step on the request named by the first argument: its log lines carry its id."""
    @functools.wraps(method)
    def bound_method(self: Lifecycle, request_id: str, *args: Any, **kwargs: Any) -> Reply:
        with log_context.bound(request_id=request_id):
            return method(self, request_id, *args, **kwargs)

    return bound_method  # type: ignore[return-value]


class Lifecycle:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.records = Records(runtime)
        self.execution = Execution(self.records)

    # -- deciding -----------------------------------------------------------------------------
    def policy_input(self, tx: Transaction, parsed: ParsedLine, caller: Caller, channel: str, is_dm: bool) -> PolicyInput:
        rt, command = self.rt, parsed.command
        now = rt.now()
        env = rt.environment_of(command, parsed.params)
        recent = 0
        if command.rate_limit and caller.person:
            since = now - timedelta(seconds=command.rate_limit.per_s)
            recent = tx.count_requests(caller.person.id, command.name, since)
        return PolicyInput(
            command=command,
            params=parsed.params,
            person=caller.person,
            sender=caller.person_id,
            channel=channel,
            is_dm=is_dm,
            now=now,
            environment=env,
            lock=tx.active_lock(env.name, now) if env and command.command_class.mutating else None,
            recent_count=recent,
            default_approver_roles=rt.catalog.approvers_for(ApprovalRule()),
            dry_run=parsed.dry_run,
            link=parsed.link,
            break_glass=parsed.break_glass,
        )

    # -- submit -------------------------------------------------------------------------------
    def submit(self, parsed: ParsedLine, caller: Caller, channel: str, is_dm: bool, thread: str | None) -> Reply:
        request_id = new_request_id()
        with log_context.bound(request_id=request_id):
            return self._submit(request_id, parsed, caller, channel, is_dm, thread)

    def _submit(self, request_id: str, parsed: ParsedLine, caller: Caller, channel: str, is_dm: bool,
                thread: str | None) -> Reply:
        rt, command = self.rt, parsed.command
        with rt.store.transaction() as tx:
            now = rt.now()
            decision = decide(self.policy_input(tx, parsed, caller, channel, is_dm))
            env = rt.environment_of(command, parsed.params)
            state = _NEXT_STATE[decision.kind]
            ttl = decision.approval_ttl_s if state is State.AWAITING_APPROVAL else CONFIRM_TTL_S
            record = RequestRecord(
                id=request_id,
                command=command.name,
                params=parsed.params,
                environment=env.name if env else None,
                requester_id=caller.person_id,
                requester_name=caller.name,
                platform=caller.actor.platform,
                channel=channel,
                state=State.RECEIVED,
                binding=binding_hash(command.name, parsed.params, env.name if env else None),
                created_at=now,
                updated_at=now,
                link=parsed.link,
                dry_run=parsed.dry_run,
                break_glass_reason=parsed.break_glass if decision.break_glass else None,
                confirm_text=decision.confirm_text,
                approvals_required=decision.approvals_required,
                approver_roles=decision.approver_roles,
                expires_at=now + timedelta(seconds=ttl) if state.pending else None,
                decision_rule=decision.rule,
                thread=thread,
                error=decision.reason if decision.refused else None,
            ).moved(state, now)
            if decision.refused:  # it will never run: keep no secret values
                record = replace(record, params=render.shown_params(command, record.params))
            tx.insert_request(record)
            tx.append_audit(self.records.entry(caller, "request.decided", record, decision=decision), now)
            note_request(tx, "request.decided", record, command, caller, now)  # an incident's room: its timeline
        if decision.refused:
            return Reply(render.refusal(decision), request_id=record.id, ok=False,
                         needs="link" if decision.rule == "link.required" else None)
        if state is State.AWAITING_CONFIRMATION:
            return Reply(self._confirm_prompt(record), request_id=record.id, needs="confirm",
                         confirm_text=record.confirm_text)
        if state is State.AWAITING_APPROVAL:
            self.records.ask_approvers(record)
            return Reply(self._waiting_text(record), request_id=record.id)
        return self.execution.execute(record, caller)

    def open_approval(self, command: Command, params: dict[str, Any], environment: str | None, *,
                      requester_id: str, requester_name: str, platform: str, channel: str, thread: str | None,
                      approval: ApprovalRule, idempotency_key: str) -> RequestRecord | None:
        """A request opsgate opens itself (a workflow's approval step, a pipeline's manual approval):
        straight to awaiting approval, under the same approval rules. None if the key was seen."""
        rt = self.rt
        request_id = new_request_id()
        with log_context.bound(request_id=request_id):
            with rt.store.transaction() as tx:
                now = rt.now()
                if not tx.claim_inbound(idempotency_key, now):
                    return None
                roles = rt.catalog.approvers_for(approval)
                record = RequestRecord(
                    id=request_id, command=command.name, params=params, environment=environment,
                    requester_id=requester_id, requester_name=requester_name, platform=platform, channel=channel,
                    state=State.RECEIVED, binding=binding_hash(command.name, params, environment), created_at=now,
                    updated_at=now, approvals_required=approval.count, approver_roles=roles,
                    expires_at=now + timedelta(seconds=approval.ttl_s), decision_rule="approval.automation",
                    thread=thread,
                ).moved(State.AWAITING_APPROVAL, now)
                tx.insert_request(record)
                reason = f"needs {approval.count} approval(s) by {', '.join(roles) or 'nobody'}"
                tx.append_audit(self.records.entry(SYSTEM, "request.decided", record, decision=Decision(
                    DecisionKind.APPROVE, "approval.automation", reason, approvals_required=approval.count,
                    approver_roles=roles)), now)
                tx.save_inbound_reply(idempotency_key, f"opened {record.id}", record.id)
            self.records.ask_approvers(record)
            return record

    # -- confirm, approve, deny, cancel -------------------------------------------------------
    @_about_request
    def confirm(self, request_id: str, text: str, caller: Caller) -> Reply:
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self.records.get(tx, request_id)
            if record.requester_id != caller.person_id:
                problem = "only the person who asked can confirm it"
            elif record.state is not State.AWAITING_CONFIRMATION:
                problem = f"it is {render.state_text(record)}, not awaiting confirmation"
            elif record.expires_at and now >= record.expires_at:
                problem = "its confirmation window has closed"
            elif text != record.confirm_text:
                problem = f"the confirmation text does not match; type exactly `{record.confirm_text}`"
            else:
                problem = None
            if problem:
                tx.append_audit(self.records.entry(caller, "confirmation.refused", record, reason=problem), now)
                refused = True
            else:
                refused = False
                if record.approvals_required:
                    ttl = self._approval_ttl(record)
                    updated = record.moved(State.AWAITING_APPROVAL, now, expires_at=now + timedelta(seconds=ttl))
                else:
                    updated = record.moved(State.APPROVED, now, expires_at=None)
                tx.update_request(updated, expected_state=State.AWAITING_CONFIRMATION)
                tx.append_audit(self.records.entry(caller, "request.confirmed", updated, outcome=updated.state.value), now)
        if refused:
            return Reply(f"Cannot confirm `{request_id}`: {problem}.", ok=False, request_id=request_id)
        if updated.state is State.AWAITING_APPROVAL:
            self.records.ask_approvers(updated)
            return Reply("Confirmed. " + self._waiting_text(updated), request_id=updated.id)
        return self.execution.execute(updated, caller)

    @_about_request
    def approve(self, request_id: str, caller: Caller) -> Reply:
        assert caller.person is not None  # the policy admits only catalog people here
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self.records.get(tx, request_id, for_update=True)
            approvals = tx.approvals(record.id)
            check = check_approval(record, caller.person, approvals, now)
            if not check.passed:
                tx.append_audit(self.records.entry(caller, "approval.refused", record, rule=check.rule, reason=check.detail), now)
            else:
                role = sorted(caller.person.roles.intersection(record.approver_roles))[0]
                tx.add_approval(ApprovalRecord(record.id, caller.person.id, caller.name, record.binding, role, now))
                approvers = tuple(a.approver_id for a in approvals) + (caller.person.id,)
                done = len(approvers) >= record.approvals_required
                updated = record.moved(State.APPROVED, now, expires_at=None) if done else record
                if done:
                    tx.update_request(updated, expected_state=State.AWAITING_APPROVAL)
                tx.append_audit(
                    self.records.entry(caller, "approval.granted", updated, rule=check.rule, reason=check.detail,
                                approvers=approvers, outcome=updated.state.value),
                    now,
                )
                note_request(tx, "approval.granted", updated, self.records.command(updated), caller, now)
        if not check.passed:
            return Reply(f"Cannot approve `{request_id}`: {check.detail}.", ok=False, request_id=request_id)
        if not done:
            left = record.approvals_required - len(approvers)
            self.records.post(updated, f"{caller.name} approved. {render.request_line(updated, self.records.command(updated))} — {left} more needed.")
            return Reply(f"Approved `{record.id}`; {left} more approval(s) needed.", request_id=record.id)
        self.records.post(updated, f"{caller.name} approved {render.request_line(updated, self.records.command(updated))}. Running.")
        return self.execution.execute(updated, caller)

    @_about_request
    def deny(self, request_id: str, reason: str, caller: Caller) -> Reply:
        assert caller.person is not None
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self.records.get(tx, request_id, for_update=True)
            check = check_approval(record, caller.person, [], now)
            if not check.passed:
                detail = "use `cancel` for your own request" if check.rule == "approval.self" else check.detail
                tx.append_audit(self.records.entry(caller, "denial.refused", record, rule=check.rule, reason=detail), now)
                refused = True
            else:
                refused = False
                updated = record.moved(State.DENIED, now, error=f"denied by {caller.name}: {reason or 'no reason given'}")
                tx.update_request(updated, expected_state=record.state)
                tx.append_audit(self.records.entry(caller, "request.denied", updated, reason=reason or None,
                                            outcome="denied", rule="approval.denied"), now)
                note_request(tx, "request.denied", updated, self.records.command(updated), caller, now, reason)
        if refused:
            return Reply(f"Cannot deny `{request_id}`: {detail}.", ok=False, request_id=request_id)
        self._refused(updated, reason or f"denied by {caller.name}")
        self.records.post(updated, f"{caller.name} denied {render.request_line(updated, self.records.command(updated))}"
                            + (f": {reason}" if reason else ""))
        return Reply(f"Denied `{record.id}`.", request_id=record.id)

    @_about_request
    def cancel(self, request_id: str, caller: Caller) -> Reply:
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self.records.get(tx, request_id, for_update=True)
            if record.requester_id != caller.person_id:
                problem = "only the person who asked can cancel it"
            elif record.state not in (State.AWAITING_CONFIRMATION, State.AWAITING_APPROVAL, State.APPROVED):
                problem = f"it is {render.state_text(record)}"
            else:
                problem = None
            if problem:
                tx.append_audit(self.records.entry(caller, "cancel.refused", record, reason=problem), now)
            else:
                updated = record.moved(State.CANCELLED, now)
                tx.update_request(updated, expected_state=record.state)
                tx.append_audit(self.records.entry(caller, "request.cancelled", updated, outcome="cancelled"), now)
        if problem:
            return Reply(f"Cannot cancel `{request_id}`: {problem}.", ok=False, request_id=request_id)
        self._refused(updated, f"cancelled by {caller.name}")
        self.records.post(updated, f"{caller.name} cancelled {render.request_line(updated, self.records.command(updated))}.")
        return Reply(f"Cancelled `{record.id}`.", request_id=record.id)

    def expire_due(self) -> int:
        """Move pending requests past their expiry to EXPIRED. Returns how many."""
        expired: list[RequestRecord] = []
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            for record in tx.expiring_requests(now):
                updated = record.moved(State.EXPIRED, now, error="the approval or confirmation window closed")
                try:
                    tx.update_request(updated, expected_state=record.state)
                except ConflictError:
                    continue  # another replica moved it first
                tx.append_audit(self.records.entry(SYSTEM, "request.expired", updated, outcome="expired",
                                            rule="approval.expiry"), now)
                expired.append(updated)
        for record in expired:
            with log_context.bound(request_id=record.id):
                self._refused(record, "the approval window closed")
                self.records.post(record, f"Expired: {render.request_line(record, self.records.command(record))}.")
        return len(expired)

    def _refused(self, record: RequestRecord, reason: str) -> None:
        """After denial, cancel or expiry: answer waiting automation (on_refusal), drop secrets."""
        command = self.records.command(record)
        answer = None
        if command is not None and command.on_refusal is not None:
            answer = self.execution.call(command, record, lambda _action, ctx: self.rt.automation.run(
                command.on_refusal, {**record.params, "reason": reason}, ctx), ())
        secrets = [p.name for p in command.parameters if p.secret] if command else []
        if answer is None and not secrets:
            return
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            current = self.records.get(tx, record.id, for_update=True)
            if secrets:
                tx.update_request(replace(current, params=render.shown_params(command, current.params), updated_at=now),
                                  expected_state=current.state)
            if answer is not None:
                tx.append_audit(self.records.entry(SYSTEM, "refusal.answered" if answer.ok else "refusal.failed", current,
                                            outcome=current.state.value, reason=reason,
                                            error=None if answer.ok else answer.summary,
                                            correlation=answer.correlation,
                                            target=command.on_refusal.kind), now)

    # -- helpers ------------------------------------------------------------------------------
    def _approval_ttl(self, record: RequestRecord) -> int:
        """The approval window after a typed confirmation: the command's rule here, else the default."""
        command = self.records.command(record)
        rule = command.rules_for(record.environment).approval if command else None
        return (rule or ApprovalRule()).ttl_s

    def _confirm_prompt(self, record: RequestRecord) -> str:
        return (f"`{record.command}` is destructive. To go ahead, type `/ops confirm {record.id} {record.confirm_text}` "
                f"within {CONFIRM_TTL_S // 60} minutes, or `/ops cancel {record.id}`.")

    def _waiting_text(self, record: RequestRecord) -> str:
        return (f"Request `{record.id}` is waiting for {record.approvals_required} approval(s) by "
                f"{', '.join(record.approver_roles) or 'nobody'}; it expires at {record.expires_at:%H:%M} UTC. "
                f"`/ops cancel {record.id}` withdraws it.")
