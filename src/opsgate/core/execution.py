"""Running approved requests: start, call the automation, follow long-running work, finish.

APPROVED → RUNNING only after the binding (the exact command, parameters and environment every
approval was given for) and the freeze/lock guard pass, in the transaction that writes the audit
record; the automation is called after that commit. Long-running automation returns a checkpoint
and is followed (core.follow) until it finishes.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from opsgate import log_context
from opsgate.core import render
from opsgate.core.incidents.timeline import note_request
from opsgate.core.records import Records, target_kind
from opsgate.core.runtime import SYSTEM, Caller
from opsgate.domain.catalog import Command
from opsgate.domain.decision import DecisionKind
from opsgate.domain.message import Reply
from opsgate.domain.request import ApprovalRecord, RequestRecord, State, binding_hash
from opsgate.errors import AutomationError
from opsgate.policy import PolicyInput, execution_guard
from opsgate.ports import RunContext, RunResult, Transaction

log = logging.getLogger("opsgate.execution")


class Execution:
    def __init__(self, records: Records) -> None:
        self.records = records
        self.rt = records.rt

    def execute(self, record: RequestRecord, caller: Caller) -> Reply:
        started = self._start(record)
        if isinstance(started, Reply):
            return started
        running, approvers = started
        command = self.records.command(running)
        result = self.call(command, running, lambda action, ctx: (
            self._dry_run(command, action, running, ctx) if running.dry_run
            else self.rt.automation.run(action, running.params, ctx)), approvers)
        if result.pending:
            return self._launched(running, caller, result)
        return self.finish(running, caller, result)

    def poll(self, record: RequestRecord) -> RunResult:
        """Check on a RUNNING request whose automation is still going (see core.follow)."""
        checkpoint = record.result.get("checkpoint", {})
        return self.call(self.records.command(record), record,
                          lambda action, ctx: self.rt.automation.poll(action, record.params, ctx, checkpoint), ())

    def call(self, command: Command | None, record: RequestRecord, call, approvers: tuple[str, ...]) -> RunResult:
        """Run one automation call; every failure becomes a failed RunResult, never an exception."""
        env = self.rt.catalog.environments.get(record.environment) if record.environment else None
        ctx = RunContext(request_id=record.id, person_id=record.requester_id, environment=env,
                         dry_run=record.dry_run, approvers=approvers)
        try:
            with log_context.bound(request_id=record.id):
                if command is None or command.action is None:
                    raise AutomationError(f"`{record.command}` has no action in the catalog any more")
                return call(command.action, ctx)
        except AutomationError as err:
            return RunResult(ok=False, summary=err.message, correlation=err.correlation)
        except Exception:  # an adapter bug must not leave the request running forever
            log.exception("automation crashed")
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
        command = self.records.command(record)
        with rt.store.transaction() as tx:
            now = rt.now()
            current = self.records.get(tx, record.id, for_update=True)
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
                tx.append_audit(self.records.entry(SYSTEM, "execution.refused", failed, reason=problem, outcome="failed"), now)
                return Reply(f"Not run: {problem}", ok=False, request_id=record.id)
            running = current.moved(State.RUNNING, now)
            tx.update_request(running, expected_state=State.APPROVED)
            tx.append_audit(self.records.entry(SYSTEM, "execution.started", running, target=target_kind(command)), now)
        return running, tuple(a.approver_id for a in approvals)

    def _launched(self, running: RequestRecord, caller: Caller, result: RunResult) -> Reply:
        """The automation started and goes on: keep RUNNING with its checkpoint for core.follow."""
        with self.rt.store.transaction() as tx:
            now = self.rt.now()
            following = replace(running, updated_at=now, result={
                "summary": result.summary, "checkpoint": result.checkpoint, "correlation": result.correlation})
            tx.update_request(following, expected_state=State.RUNNING)
            tx.append_audit(self.records.entry(SYSTEM, "execution.launched", following, correlation=result.correlation,
                                        target=target_kind(self.records.command(running))), now)
        text = f"⏳ Started: {render.request_line(following, self.records.command(following))}\n{result.summary}".rstrip()
        for line in result.progress:
            text += f"\n  {line}"
        if caller.person_id != following.requester_id:
            self.records.post(following, text)  # started by an approval: the requester reads it in the channel
        return Reply(text, ephemeral=False, request_id=following.id)

    def keep_following(self, record: RequestRecord, result: RunResult) -> None:
        """Store a newer checkpoint of a still-running request and post its progress."""
        with self.rt.store.transaction() as tx:
            current = self.records.get(tx, record.id, for_update=True)
            if current.state is not State.RUNNING:
                return
            tx.update_request(replace(current, updated_at=self.rt.now(),
                                      result={**current.result, "checkpoint": result.checkpoint}),
                              expected_state=State.RUNNING)
        if result.progress:
            self.records.post(record, f"`{record.id}` " + "\n".join(result.progress))

    def finish(self, running: RequestRecord, caller: Caller, result: RunResult) -> Reply:
        rt = self.rt
        command = self.records.command(running)
        ok, summary = result.ok, result.summary
        with rt.store.transaction() as tx:
            now = rt.now()
            current = self.records.get(tx, running.id, for_update=True)
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
            tx.append_audit(self.records.entry(SYSTEM, "execution." + final.state.value, final, outcome=final.state.value,
                                        error=None if ok else summary, correlation=correlation,
                                        approvers=approvers, target=target_kind(command)), now)
            note_request(tx, "execution." + final.state.value, final, command, SYSTEM, now, summary)
        progress = "".join(f"\n  {line}" for line in result.progress)
        text = f"{'✅ Succeeded' if ok else '❌ Failed'}: {render.request_line(final, command)}{progress}\n{summary}".rstrip()
        if caller.person_id != final.requester_id:
            self.records.post(final, text)  # the requester learns the outcome of an approved request in the channel
        return Reply(text, ephemeral=False, request_id=final.id, ok=ok, buttons=result.buttons)

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
            link=record.link, break_glass=record.break_glass_reason, dry_run=record.dry_run,
        )
