"""Chat-neutral text for requests, decisions, audit records and help. Markdown-ish, Slack-safe."""

from __future__ import annotations

from typing import Any

from opsgate.core.parser import usage
from opsgate.domain.audit import REDACTED, SealedRecord, redact
from opsgate.domain.catalog import Catalog, Command
from opsgate.domain.decision import Decision
from opsgate.domain.durations import format_duration_s
from opsgate.domain.request import RequestRecord


def shown_params(command: Command | None, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as they may be shown or audited: secret values replaced."""
    if command is None:
        return dict(params)
    return redact(params, (p.name for p in command.parameters if p.secret))


def params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={_quote(v)}" for k, v in params.items() if v not in ("", None))


def _quote(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'"{text}"' if (" " in text or not text) and text != REDACTED else text


def request_line(record: RequestRecord, command: Command | None) -> str:
    params = params_text(shown_params(command, record.params))
    where = f" [{record.environment}]" if record.environment else ""
    dry = " (dry run)" if record.dry_run else ""
    return f"`{record.id}` {record.command} {params}{where}{dry} by {record.requester_name} — {state_text(record)}"


def state_text(record: RequestRecord) -> str:
    state = record.state.value.replace("_", " ")
    if record.state.value == "awaiting_approval":
        return f"{state} ({record.approvals_required} needed from {', '.join(record.approver_roles)})"
    return state


def refusal(decision: Decision) -> str:
    verb = "Blocked" if decision.kind.value == "blocked" else "Denied"
    return f"{verb} by rule `{decision.rule}`: {decision.reason}."


def explain(decision: Decision) -> str:
    lines = [f"Decision: *{decision.kind.value}* by rule `{decision.rule}` — {decision.reason}"]
    for check in decision.checks:
        mark = "✓" if check.passed else "✗"
        lines.append(f"  {mark} `{check.rule}`: {check.detail}")
    if decision.confirm_text:
        lines.append(f"  then: type the confirmation `{decision.confirm_text}`")
    return "\n".join(lines)


def audit_line(record: SealedRecord) -> str:
    f = record.fields()
    actor = f["actor"].get("person") or f"{f['actor']['platform']}:{f['actor']['id']}"
    parts = [f"#{f['seq']}", f["ts"][:19].replace("T", " "), actor, f["event"]]
    if f.get("request_id"):
        parts.append(f["request_id"])
    if f.get("command"):
        parts.append(f["command"] + (" " + params_text(f["params"]) if f.get("params") else ""))
    if f.get("environment"):
        parts.append(f"[{f['environment']}]")
    if f.get("decision"):
        parts.append(f"{f['decision']} ({f.get('rule')})")
    if f.get("outcome"):
        parts.append(f"→ {f['outcome']}")
    if f.get("break_glass"):
        parts.append("BREAK-GLASS")
    return " ".join(parts)


def command_help(command: Command, catalog: Catalog) -> str:
    lines = [f"*{command.name}* — {command.summary}", f"Usage: `/ops {usage(command)}`"]
    if not command.builtin:
        lines.append(f"Class: {command.command_class.value}" + (f" · owner: {command.owner}" if command.owner else ""))
    for p in command.parameters:
        req = "required" if p.required and p.default is None else f"optional, default {p.default!r}" if p.default not in (None, "") else "optional"
        secret = ", secret" if p.secret else ""
        lines.append(f"  • `{p.name}`: {p.description + ' — ' if p.description else ''}{p.allowed()} ({req}{secret})")
    if command.command_class.mutating:
        for env in catalog.environments.values():
            rules = command.rules_for(env.name)
            needs = []
            if rules.approval:
                needs.append(f"{rules.approval.count} approval(s) by {', '.join(catalog.approvers_for(rules.approval))}"
                             f" within {format_duration_s(rules.approval.ttl_s)}")
            elif env.protected:
                needs.append("1 approval (protected environment)")
            if rules.confirm or (rules.confirm is None and command.command_class.value == "destructive"):
                needs.append("typed confirmation")
            if rules.link and rules.link.required:
                needs.append("a --link")
            lines.append(f"  {env.name}: {', '.join(needs) if needs else 'runs at once'}")
    if command.runbook:
        lines.append(f"Runbook: {command.runbook}")
    if command.rollback:
        lines.append(f"Rollback: `/ops {command.rollback}`")
    return "\n".join(lines)
