"""The request lifecycle: submit → confirm → approve → run → succeeded | failed.

Every state change and its audit record are written in one transaction; the automation runs only
after that transaction committed, so an unwritable audit log means nothing runs.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from opsgate.core import render
from opsgate.core.parser import ParsedLine
from opsgate.core.runtime import SYSTEM, Caller, Runtime
from opsgate.domain.catalog import ApprovalRule, Command
from opsgate.domain.decision import Decision, DecisionKind
from opsgate.domain.message import Button, Link, Message, Reply
from opsgate.domain.request import ApprovalRecord, RequestRecord, State, binding_hash, new_request_id
from opsgate.errors import AutomationError, ConflictError, UserError
from opsgate.policy import PolicyInput, check_approval, decide, execution_guard
from opsgate.ports import RunContext, RunResult, Transaction

log = logging.getLogger("opsgate.lifecycle")

CONFIRM_TTL_S = 900
_NEXT_STATE = {
    DecisionKind.ALLOW: State.APPROVED,
    DecisionKind.CONFIRM: State.AWAITING_CONFIRMATION,
    DecisionKind.APPROVE: State.AWAITING_APPROVAL,
    DecisionKind.DENY: State.DENIED,
    DecisionKind.BLOCKED: State.DENIED,
}


class Lifecycle:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

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
            default_approver_roles=tuple(r.name for r in rt.catalog.roles.values() if "approve" in r.permissions),
            dry_run=parsed.dry_run,
            link=parsed.link,
            break_glass=parsed.break_glass,
        )

    # -- submit -------------------------------------------------------------------------------
    def submit(self, parsed: ParsedLine, caller: Caller, channel: str, is_dm: bool, thread: str | None) -> Reply:
        rt, command = self.rt, parsed.command
        with rt.store.transaction() as tx:
            now = rt.now()
            decision = decide(self.policy_input(tx, parsed, caller, channel, is_dm))
            env = rt.environment_of(command, parsed.params)
            state = _NEXT_STATE[decision.kind]
            ttl = decision.approval_ttl_s if state is State.AWAITING_APPROVAL else CONFIRM_TTL_S
            record = RequestRecord(
                id=new_request_id(),
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
            tx.append_audit(self._entry(caller, "request.decided", record, decision=decision), now)
        if decision.refused:
            return Reply(render.refusal(decision), request_id=record.id, ok=False,
                         needs="link" if decision.rule == "link.required" else None)
        if state is State.AWAITING_CONFIRMATION:
            return Reply(self._confirm_prompt(record), request_id=record.id, needs="confirm",
                         confirm_text=record.confirm_text)
        if state is State.AWAITING_APPROVAL:
            self._ask_approvers(record)
            return Reply(self._waiting_text(record), request_id=record.id)
        return self.execute(record, caller)

    def open_approval(self, command: Command, params: dict[str, Any], environment: str | None, *,
                      requester_id: str, requester_name: str, platform: str, channel: str, thread: str | None,
                      approval: ApprovalRule, idempotency_key: str) -> RequestRecord | None:
        """A request opsgate opens itself (a workflow's approval step, a pipeline's manual approval):
        straight to awaiting approval, under the same approval rules. None if the key was seen."""
        rt = self.rt
        with rt.store.transaction() as tx:
            now = rt.now()
            if not tx.claim_inbound(idempotency_key, now):
                return None
            roles = rt.catalog.approvers_for(approval)
            record = RequestRecord(
                id=new_request_id(), command=command.name, params=params, environment=environment,
                requester_id=requester_id, requester_name=requester_name, platform=platform, channel=channel,
                state=State.RECEIVED, binding=binding_hash(command.name, params, environment), created_at=now,
                updated_at=now, approvals_required=approval.count, approver_roles=roles,
                expires_at=now + timedelta(seconds=approval.ttl_s), decision_rule="approval.automation", thread=thread,
            ).moved(State.AWAITING_APPROVAL, now)
            tx.insert_request(record)
            reason = f"needs {approval.count} approval(s) by {', '.join(roles) or 'nobody'}"
            tx.append_audit(self._entry(SYSTEM, "request.decided", record, decision=Decision(
                DecisionKind.APPROVE, "approval.automation", reason, approvals_required=approval.count,
                approver_roles=roles)), now)
            tx.save_inbound_reply(idempotency_key, f"opened {record.id}", record.id)
        self._ask_approvers(record)
        return record

    # -- confirm, approve, deny, cancel -------------------------------------------------------
    def confirm(self, request_id: str, text: str, caller: Caller) -> Reply:
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self._get(tx, request_id)
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
                tx.append_audit(self._entry(caller, "confirmation.refused", record, reason=problem), now)
                refused = True
            else:
                refused = False
                if record.approvals_required:
                    ttl = self._approval_ttl(record)
                    updated = record.moved(State.AWAITING_APPROVAL, now, expires_at=now + timedelta(seconds=ttl))
                else:
                    updated = record.moved(State.APPROVED, now, expires_at=None)
                tx.update_request(updated, expected_state=State.AWAITING_CONFIRMATION)
                tx.append_audit(self._entry(caller, "request.confirmed", updated, outcome=updated.state.value), now)
        if refused:
            return Reply(f"Cannot confirm `{request_id}`: {problem}.", ok=False, request_id=request_id)
        if updated.state is State.AWAITING_APPROVAL:
            self._ask_approvers(updated)
            return Reply("Confirmed. " + self._waiting_text(updated), request_id=updated.id)
        return self.execute(updated, caller)

    def approve(self, request_id: str, caller: Caller) -> Reply:
        assert caller.person is not None  # the policy admits only catalog people here
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self._get(tx, request_id, for_update=True)
            approvals = tx.approvals(record.id)
            check = check_approval(record, caller.person, approvals, now)
            if not check.passed:
                tx.append_audit(self._entry(caller, "approval.refused", record, rule=check.rule, reason=check.detail), now)
            else:
                role = sorted(caller.person.roles.intersection(record.approver_roles))[0]
                tx.add_approval(ApprovalRecord(record.id, caller.person.id, caller.name, record.binding, role, now))
                approvers = tuple(a.approver_id for a in approvals) + (caller.person.id,)
                done = len(approvers) >= record.approvals_required
                updated = record.moved(State.APPROVED, now, expires_at=None) if done else record
                if done:
                    tx.update_request(updated, expected_state=State.AWAITING_APPROVAL)
                tx.append_audit(
                    self._entry(caller, "approval.granted", updated, rule=check.rule, reason=check.detail,
                                approvers=approvers, outcome=updated.state.value),
                    now,
                )
        if not check.passed:
            return Reply(f"Cannot approve `{request_id}`: {check.detail}.", ok=False, request_id=request_id)
        if not done:
            left = record.approvals_required - len(approvers)
            self._post(updated, f"{caller.name} approved. {render.request_line(updated, self._command(updated))} — {left} more needed.")
            return Reply(f"Approved `{record.id}`; {left} more approval(s) needed.", request_id=record.id)
        self._post(updated, f"{caller.name} approved {render.request_line(updated, self._command(updated))}. Running.")
        return self.execute(updated, caller)

    def deny(self, request_id: str, reason: str, caller: Caller) -> Reply:
        assert caller.person is not None
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self._get(tx, request_id, for_update=True)
            check = check_approval(record, caller.person, [], now)
            if not check.passed:
                detail = "use `cancel` for your own request" if check.rule == "approval.self" else check.detail
                tx.append_audit(self._entry(caller, "denial.refused", record, rule=check.rule, reason=detail), now)
                refused = True
            else:
                refused = False
                updated = record.moved(State.DENIED, now, error=f"denied by {caller.name}: {reason or 'no reason given'}")
                tx.update_request(updated, expected_state=record.state)
                tx.append_audit(self._entry(caller, "request.denied", updated, reason=reason or None,
                                            outcome="denied", rule="approval.denied"), now)
        if refused:
            return Reply(f"Cannot deny `{request_id}`: {detail}.", ok=False, request_id=request_id)
        self._refused(updated, reason or f"denied by {caller.name}")
        self._post(updated, f"{caller.name} denied {render.request_line(updated, self._command(updated))}"
                            + (f": {reason}" if reason else ""))
        return Reply(f"Denied `{record.id}`.", request_id=record.id)

    def cancel(self, request_id: str, caller: Caller) -> Reply:
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            record = self._get(tx, request_id, for_update=True)
            if record.requester_id != caller.person_id:
                problem = "only the person who asked can cancel it"
            elif record.state not in (State.AWAITING_CONFIRMATION, State.AWAITING_APPROVAL, State.APPROVED):
                problem = f"it is {render.state_text(record)}"
            else:
                problem = None
            if problem:
                tx.append_audit(self._entry(caller, "cancel.refused", record, reason=problem), now)
            else:
                updated = record.moved(State.CANCELLED, now)
                tx.update_request(updated, expected_state=record.state)
                tx.append_audit(self._entry(caller, "request.cancelled", updated, outcome="cancelled"), now)
        if problem:
            return Reply(f"Cannot cancel `{request_id}`: {problem}.", ok=False, request_id=request_id)
        self._refused(updated, f"cancelled by {caller.name}")
        self._post(updated, f"{caller.name} cancelled {render.request_line(updated, self._command(updated))}.")
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
                tx.append_audit(self._entry(SYSTEM, "request.expired", updated, outcome="expired",
                                            rule="approval.expiry"), now)
                expired.append(updated)
        for record in expired:
            self._refused(record, "the approval window closed")
            self._post(record, f"Expired: {render.request_line(record, self._command(record))}.")
        return len(expired)

    # -- running ------------------------------------------------------------------------------
    def execute(self, record: RequestRecord, caller: Caller) -> Reply:
        started = self._start(record)
        if isinstance(started, Reply):
            return started
        running, approvers = started
        command = self._command(running)
        result = self._call(command, running, lambda action, ctx: (
            self._dry_run(command, action, running, ctx) if running.dry_run
            else self.rt.automation.run(action, running.params, ctx)), approvers)
        if result.pending:
            return self._launched(running, caller, result)
        return self.finish(running, caller, result)

    def poll(self, record: RequestRecord) -> RunResult:
        """Check on a RUNNING request whose automation is still going (see core.follow)."""
        checkpoint = record.result.get("checkpoint", {})
        return self._call(self._command(record), record,
                          lambda action, ctx: self.rt.automation.poll(action, record.params, ctx, checkpoint), ())

    def _call(self, command: Command | None, record: RequestRecord, call, approvers: tuple[str, ...]) -> RunResult:
        """Run one automation call; every failure becomes a failed RunResult, never an exception."""
        env = self.rt.catalog.environments.get(record.environment) if record.environment else None
        ctx = RunContext(request_id=record.id, person_id=record.requester_id, environment=env,
                         dry_run=record.dry_run, approvers=approvers)
        try:
            if command is None or command.action is None:
                raise AutomationError(f"`{record.command}` has no action in the catalog any more")
            return call(command.action, ctx)
        except AutomationError as err:
            return RunResult(ok=False, summary=err.message, correlation=err.correlation)
        except Exception:  # an adapter bug must not leave the request running forever
            log.exception("automation crashed", extra={"request_id": record.id})
            return RunResult(ok=False, summary=f"opsgate hit an internal error while running {record.id}; "
                                               "the operators have the details")

    def _dry_run(self, command: Command, action, record: RequestRecord, ctx: RunContext) -> RunResult:
        calls = self.rt.automation.plan(action, record.params, ctx)
        lines = [f"  • {c.api} {c.target} {render.params_text(render.shown_params(command, c.parameters))}".rstrip()
                 for c in calls]
        return RunResult(ok=True, summary="Dry run; these calls would be made:\n" + "\n".join(lines),
                         output={"calls": [{"api": c.api, "target": c.target} for c in calls]})

    def _start(self, record: RequestRecord) -> tuple[RequestRecord, tuple[str, ...]] | Reply:
        """APPROVED → RUNNING after the binding and the freeze/lock guard pass; or a refusal."""
        rt = self.rt
        command = self._command(record)
        with rt.store.transaction() as tx:
            now = rt.now()
            current = self._get(tx, record.id, for_update=True)
            if current.state is not State.APPROVED:
                return Reply(f"`{record.id}` is {render.state_text(current)}; not running it again.", request_id=record.id)
            approvals = tx.approvals(current.id)
            problem = self._binding_problem(current, approvals)
            if problem is None and command is not None and not command.internal:
                guard = execution_guard(self._guard_input(tx, current, command),
                                        break_glass_granted=bool(current.break_glass_reason))
                problem = None if guard.kind is DecisionKind.ALLOW else render.refusal(guard)
            if problem:
                failed = current.moved(State.FAILED, now, error=problem)
                tx.update_request(failed, expected_state=State.APPROVED)
                tx.append_audit(self._entry(SYSTEM, "execution.refused", failed, reason=problem, outcome="failed"), now)
                return Reply(f"Not run: {problem}", ok=False, request_id=record.id)
            running = current.moved(State.RUNNING, now)
            tx.update_request(running, expected_state=State.APPROVED)
            tx.append_audit(self._entry(SYSTEM, "execution.started", running, target=_target(command)), now)
        return running, tuple(a.approver_id for a in approvals)

    def _launched(self, running: RequestRecord, caller: Caller, result: RunResult) -> Reply:
        """The automation started and goes on: keep RUNNING with its checkpoint for core.follow."""
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            following = replace(running, updated_at=now, result={
                "summary": result.summary, "checkpoint": result.checkpoint, "correlation": result.correlation})
            tx.update_request(following, expected_state=State.RUNNING)
            tx.append_audit(self._entry(SYSTEM, "execution.launched", following, correlation=result.correlation,
                                        target=_target(self._command(running))), now)
        text = f"⏳ Started: {render.request_line(following, self._command(following))}\n{result.summary}".rstrip()
        for line in result.progress:
            text += f"\n  {line}"
        if caller.person_id != following.requester_id:
            self._post(following, text)  # started by an approval: the requester reads it in the channel
        return Reply(text, ephemeral=False, request_id=following.id)

    def keep_following(self, record: RequestRecord, result: RunResult) -> None:
        """Store a newer checkpoint of a still-running request and post its progress."""
        with self.rt.store.transaction() as tx:
            current = self._get(tx, record.id, for_update=True)
            if current.state is not State.RUNNING:
                return
            tx.update_request(replace(current, updated_at=self.rt.now(),
                                      result={**current.result, "checkpoint": result.checkpoint}),
                              expected_state=State.RUNNING)
        if result.progress:
            self._post(record, f"`{record.id}` " + "\n".join(result.progress))

    def finish(self, running: RequestRecord, caller: Caller, result: RunResult) -> Reply:
        rt = self.rt
        command = self._command(running)
        ok, summary = result.ok, result.summary
        with rt.store.transaction() as tx:
            now = rt.now()
            current = self._get(tx, running.id, for_update=True)
            if current.state is not State.RUNNING:  # another replica finished it first
                return Reply(f"`{running.id}` is {render.state_text(current)}.", request_id=running.id)
            correlation = {**current.result.get("correlation", {}), **result.correlation}
            final = current.moved(
                State.SUCCEEDED if ok else State.FAILED, now,
                params=render.shown_params(command, current.params),  # secrets are not kept after use
                result={"summary": summary, "correlation": correlation, **result.output}, error=None if ok else summary,
            )
            tx.update_request(final, expected_state=State.RUNNING)
            approvers = tuple(a.approver_id for a in tx.approvals(running.id))
            tx.append_audit(self._entry(SYSTEM, "execution." + final.state.value, final, outcome=final.state.value,
                                        error=None if ok else summary, correlation=correlation,
                                        approvers=approvers, target=_target(command)), now)
        progress = "".join(f"\n  {line}" for line in result.progress)
        text = f"{'✅ Succeeded' if ok else '❌ Failed'}: {render.request_line(final, command)}{progress}\n{summary}".rstrip()
        if caller.person_id != final.requester_id:
            self._post(final, text)  # the requester learns the outcome of an approved request in the channel
        return Reply(text, ephemeral=False, request_id=final.id, ok=ok)

    def _refused(self, record: RequestRecord, reason: str) -> None:
        """After denial, cancel or expiry: answer waiting automation (on_refusal), drop secrets."""
        command = self._command(record)
        answer = None
        if command is not None and command.on_refusal is not None:
            answer = self._call(command, record, lambda _action, ctx: self.rt.automation.run(
                command.on_refusal, {**record.params, "reason": reason}, ctx), ())
        secrets = [p.name for p in command.parameters if p.secret] if command else []
        if answer is None and not secrets:
            return
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            current = self._get(tx, record.id, for_update=True)
            if secrets:
                tx.update_request(replace(current, params=render.shown_params(command, current.params), updated_at=now),
                                  expected_state=current.state)
            if answer is not None:
                tx.append_audit(self._entry(SYSTEM, "refusal.answered" if answer.ok else "refusal.failed", current,
                                            outcome=current.state.value, reason=reason,
                                            error=None if answer.ok else answer.summary,
                                            correlation=answer.correlation,
                                            target=command.on_refusal.kind), now)

    # -- helpers ------------------------------------------------------------------------------
    def _binding_problem(self, record: RequestRecord, approvals: list[ApprovalRecord]) -> str | None:
        expected = binding_hash(record.command, record.params, record.environment)
        if record.binding != expected:
            return "the request's parameters changed after it was made"
        if any(a.binding != expected for a in approvals):
            return "an approval was given for different parameters"
        return None

    def _guard_input(self, tx: Transaction, record: RequestRecord, command) -> PolicyInput:
        rt = self.rt
        now = rt.now()
        env = rt.catalog.environments.get(record.environment) if record.environment else None
        person = rt.person(record.requester_id, record.platform)
        return PolicyInput(
            command=command, params=record.params, person=person, sender=record.requester_id,
            channel=record.channel, is_dm=False, now=now, environment=env,
            lock=tx.active_lock(env.name, now) if env else None,
            link=record.link, break_glass=record.break_glass_reason,
        )

    def _approval_ttl(self, record: RequestRecord) -> int:
        command = self._command(record)
        if command is None:
            return CONFIRM_TTL_S
        rules = command.rules_for(record.environment)
        return rules.approval.ttl_s if rules.approval else 3600

    def _get(self, tx: Transaction, request_id: str, *, for_update: bool = False) -> RequestRecord:
        record = tx.get_request(request_id, for_update=for_update)
        if record is None:
            raise UserError(f"There is no request `{request_id}`.", hint="`requests` lists the open ones.")
        return record

    def _command(self, record: RequestRecord) -> Command | None:
        return self.rt.command(record.command)

    def _entry(self, caller: Caller, event: str, record: RequestRecord, *, decision: Decision | None = None, **fields: Any):
        command = self._command(record)
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

    def _confirm_prompt(self, record: RequestRecord) -> str:
        return (f"`{record.command}` is destructive. To go ahead, type `/ops confirm {record.id} {record.confirm_text}` "
                f"within {CONFIRM_TTL_S // 60} minutes, or `/ops cancel {record.id}`.")

    def _waiting_text(self, record: RequestRecord) -> str:
        return (f"Request `{record.id}` is waiting for {record.approvals_required} approval(s) by "
                f"{', '.join(record.approver_roles) or 'nobody'}; it expires at {record.expires_at:%H:%M} UTC. "
                f"`/ops cancel {record.id}` withdraws it.")

    def _ask_approvers(self, record: RequestRecord) -> None:
        command = self._command(record)
        glass = f"\n⚠️ BREAK-GLASS: {record.break_glass_reason}" if record.break_glass_reason else ""
        link = f"\nLink: {record.link}" if record.link else ""
        self.rt.chat.post(Message(
            text=f"Approval needed: {render.request_line(record, command)}{link}{glass}",
            channel=record.channel,
            thread=record.thread,
            request_id=record.id,
            buttons=_approval_buttons(record),
        ))

    def _post(self, record: RequestRecord, text: str) -> None:
        """A message about the request: chat adapters update the request's message in place, so it
        keeps the buttons while approvals are still missing and links to what the run started."""
        buttons = _approval_buttons(record) if record.state is State.AWAITING_APPROVAL else ()
        console = record.result.get("correlation", {}).get("console_url")
        links = (Link("AWS console", console),) if console else ()
        self.rt.chat.post(Message(text=text, channel=record.channel, thread=record.thread, request_id=record.id,
                                  buttons=buttons, links=links))


def _approval_buttons(record: RequestRecord) -> tuple[Button, ...]:
    return (Button("Approve", f"approve {record.id}", "primary"), Button("Deny", f"deny {record.id}", "danger"))


def _target(command: Command | None) -> str | None:
    return command.action.kind if command and command.action else None
