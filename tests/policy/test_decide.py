from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.core.builtins import builtin_commands
from opsgate.domain.decision import DecisionKind
from opsgate.domain.freeze import FreezeWindow
from opsgate.domain.identity import Person
from opsgate.domain.lock import Lock
from opsgate.policy import PolicyInput, decide, execution_guard
from tests.factories import ENVS, NOW, catalog, weekly_freeze

CAT = catalog()
COMMANDS = {**CAT.commands, **builtin_commands(ENVS)}
APPROVERS = ("sre",)


def run(command: str, params: dict, person: str | Person | None = "alice", **extra):
    cat = extra.pop("cat", CAT)
    who = cat.person(person) if isinstance(person, str) else person
    cmd = COMMANDS[command]
    env_param = cmd.environment_parameter
    env = cat.environments.get(params.get(env_param.name)) if env_param else None
    return decide(PolicyInput(command=cmd, params=params, person=who, sender="console:x", channel=extra.pop("channel", "C1"),
                              is_dm=extra.pop("is_dm", False), now=extra.pop("now", NOW), environment=env,
                              default_approver_roles=APPROVERS, **extra))


def test_unknown_person_may_run_help_and_whoami_only():
    assert run("help", {}, None).kind is DecisionKind.ALLOW
    assert run("whoami", {}, None).kind is DecisionKind.ALLOW
    decision = run("deploy status", {"service": "web", "env": "dev"}, None)
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "identity.known")


def test_person_without_role_is_denied_everything_but_public_builtins():
    decision = run("requests", {"all": False}, "nora")
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "rbac.has-role")
    assert run("help", {}, "nora").kind is DecisionKind.ALLOW


def test_command_needs_one_of_its_roles():
    decision = run("cache flush", {"env": "dev"}, "alice")
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "rbac.command")
    assert "sre" in decision.reason


def test_read_command_never_needs_approval_even_in_prod():
    decision = run("deploy status", {"service": "web", "env": "prod"})
    assert (decision.kind, decision.rule) == (DecisionKind.ALLOW, "read.allow")


def test_argument_rule_limits_a_role_to_some_values():
    decision = run("rollback", {"service": "web", "env": "prod"}, "alice")
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "rbac.argument")
    assert "env=dev|staging" in decision.reason
    assert run("rollback", {"service": "web", "env": "staging"}, "alice").kind is DecisionKind.ALLOW


def test_a_second_role_without_argument_rules_lifts_the_limit():
    # bob is developer and sre; sre is not limited
    decision = run("rollback", {"service": "web", "env": "prod"}, "bob", link="https://github.com/acme/web/pull/1")
    assert decision.kind is DecisionKind.APPROVE


def test_mutating_command_in_protected_env_needs_one_approval_by_default():
    decision = run("restart", {"service": "web", "env": "prod"}, "bob")
    assert (decision.kind, decision.rule, decision.approvals_required) == (DecisionKind.APPROVE, "approval.protected-env", 1)
    assert decision.approver_roles == APPROVERS


def test_mutating_command_in_unprotected_env_runs_at_once():
    decision = run("restart", {"service": "web", "env": "dev"}, "alice")
    assert (decision.kind, decision.rule) == (DecisionKind.ALLOW, "policy.allow")


def test_command_approval_rule_sets_count_roles_and_expiry():
    decision = run("rollback", {"service": "web", "env": "prod"}, "carol", link="https://github.com/acme/web/pull/9")
    assert (decision.rule, decision.approver_roles, decision.approval_ttl_s) == ("approval.command", ("sre",), 1800)


def test_required_link_missing_or_not_matching():
    missing = run("rollback", {"service": "web", "env": "prod"}, "carol")
    assert (missing.kind, missing.rule) == (DecisionKind.DENY, "link.required")
    assert "needs --link" in missing.reason
    wrong = run("rollback", {"service": "web", "env": "prod"}, "carol", link="https://evil.example/pull/1")
    assert wrong.kind is DecisionKind.DENY and "not one of the accepted" in wrong.reason


def test_destructive_command_needs_typed_confirmation_of_the_environment():
    decision = run("cache flush", {"env": "dev"}, "carol")
    assert (decision.kind, decision.confirm_text, decision.approvals_required) == (DecisionKind.CONFIRM, "dev", 0)
    in_prod = run("cache flush", {"env": "prod"}, "carol")
    assert (in_prod.kind, in_prod.confirm_text, in_prod.approvals_required) == (DecisionKind.CONFIRM, "prod", 1)


def test_freeze_window_blocks_mutating_commands():
    cat = catalog(freezes=(weekly_freeze(("mon",)),))
    decision = run("restart", {"service": "web", "env": "prod"}, "bob", cat=cat)
    assert (decision.kind, decision.rule) == (DecisionKind.BLOCKED, "freeze")
    assert "--break-glass" in decision.reason
    assert run("deploy status", {"service": "web", "env": "prod"}, "bob", cat=cat).kind is DecisionKind.ALLOW


def test_absolute_freeze_dates_in_a_named_zone():
    window = FreezeWindow("year-end", "Europe/Berlin", start=datetime(2026, 3, 2, 10, 0), end=datetime(2026, 3, 3, 0, 0))
    cat = catalog(freezes=(window,))
    # 09:00 UTC is 10:00 in Berlin: inside the window
    assert run("restart", {"service": "web", "env": "prod"}, "bob", cat=cat).rule == "freeze"
    before = NOW - timedelta(minutes=1)
    assert run("restart", {"service": "web", "env": "prod"}, "bob", cat=cat, now=before).rule != "freeze"


def test_weekly_window_running_past_midnight():
    window = weekly_freeze(("sun",), start=time(22, 0), end=time(6, 0))
    monday_early = datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)  # 05:00 Berlin on Monday
    assert window.active_until(monday_early) is not None
    assert window.active_until(datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)) is None


def test_break_glass_needs_the_permission():
    cat = catalog(freezes=(weekly_freeze(("mon",)),))
    decision = run("restart", {"service": "web", "env": "prod"}, "alice", cat=cat, break_glass="outage")
    # alice is limited? restart has no argument rules; alice lacks break-glass
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "break-glass.permission")


def test_break_glass_passes_a_freeze_with_an_approval_and_is_flagged():
    cat = catalog(freezes=(weekly_freeze(("mon",)),))
    decision = run("restart", {"service": "web", "env": "dev"}, "carol", cat=cat, break_glass="outage")
    assert decision.kind is DecisionKind.ALLOW  # dev is not frozen
    frozen = run("restart", {"service": "web", "env": "prod"}, "carol", cat=cat, break_glass="outage")
    assert (frozen.kind, frozen.rule, frozen.break_glass, frozen.approvals_required) == (
        DecisionKind.APPROVE, "approval.break-glass", True, 1)


def _lock(holder: str) -> Lock:
    return Lock("prod", holder, holder.title(), "release", NOW - timedelta(minutes=5), NOW + timedelta(hours=1))


def test_another_persons_lock_blocks_mutating_commands():
    decision = run("restart", {"service": "web", "env": "prod"}, "bob", lock=_lock("carol"))
    assert (decision.kind, decision.rule) == (DecisionKind.BLOCKED, "lock")
    assert "locked by Carol" in decision.reason


def test_own_lock_does_not_block():
    assert run("restart", {"service": "web", "env": "prod"}, "bob", lock=_lock("bob")).kind is DecisionKind.APPROVE


def test_expired_lock_does_not_block():
    old = Lock("prod", "carol", "Carol", "x", NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    assert run("restart", {"service": "web", "env": "prod"}, "bob", lock=old).kind is DecisionKind.APPROVE


def test_rate_limit_per_person_and_command():
    decision = run("rollback", {"service": "web", "env": "dev"}, "alice", recent_count=3)
    assert (decision.kind, decision.rule) == (DecisionKind.DENY, "rate-limit")
    assert run("rollback", {"service": "web", "env": "dev"}, "alice", recent_count=2).kind is DecisionKind.ALLOW


def test_channel_rules_and_direct_messages():
    assert run("prod only", {}, channel="C-OTHER").rule == "channel.allowed"
    assert run("prod only", {}, channel="C-PROD").kind is DecisionKind.ALLOW
    assert run("prod only", {}, channel="D1", is_dm=True).rule == "channel.dm"


def test_builtin_permission_is_required():
    assert run("lock", {"env": "prod", "ttl": "1h", "reason": "x"}, "alice").rule == "rbac.permission"
    assert run("lock", {"env": "prod", "ttl": "1h", "reason": "x"}, "carol").kind is DecisionKind.ALLOW


def test_dry_run_is_allowed_and_reports_what_a_real_run_needs():
    decision = run("restart", {"service": "web", "env": "prod"}, "bob", dry_run=True)
    assert (decision.kind, decision.rule) == (DecisionKind.ALLOW, "dry-run")
    assert "needs 1 approval" in decision.reason


def test_dry_run_still_checks_roles():
    assert run("rollback", {"service": "web", "env": "prod"}, "alice", dry_run=True).rule == "rbac.argument"


def test_explanation_trace_names_every_rule_checked():
    decision = run("restart", {"service": "web", "env": "prod"}, "bob")
    rules = [c.rule for c in decision.checks]
    assert rules[:3] == ["identity.known", "rbac.has-role", "rbac.command"]
    assert rules[-1] == "approval.protected-env"


def test_execution_guard_refuses_when_a_freeze_started_after_approval():
    cat = catalog(freezes=(weekly_freeze(("mon",)),))
    cmd = COMMANDS["restart"]
    inp = PolicyInput(command=cmd, params={"service": "web", "env": "prod"}, person=cat.person("bob"), sender="bob",
                      channel="C1", is_dm=False, now=NOW, environment=cat.environments["prod"])
    assert execution_guard(inp, break_glass_granted=False).rule == "freeze"
    assert execution_guard(inp, break_glass_granted=True).kind is DecisionKind.ALLOW


ROLE_UNIVERSE = ("developer", "sre", "auditor", "ghost")


@settings(max_examples=300, deadline=None)
@given(
    roles=st.frozensets(st.sampled_from(ROLE_UNIVERSE)),
    permissions=st.frozensets(st.sampled_from(("approve", "break-glass", "lock", "unlock-any", "audit"))),
    command=st.sampled_from(sorted(CAT.commands)),
    env=st.sampled_from(ENVS),
    dry_run=st.booleans(),
    break_glass=st.sampled_from([None, "why"]),
    hours=st.integers(0, 24 * 14),
)
def test_a_person_without_a_matching_role_is_always_denied(roles, permissions, command, env, dry_run, break_glass, hours):
    cmd = COMMANDS[command]
    params = {p.name: (p.values[0] if p.values else "x") for p in cmd.parameters}
    if cmd.environment_parameter:
        params[cmd.environment_parameter.name] = env
    person = Person("zed", "Zed", roles=roles, permissions=permissions)
    decision = run(command, params, person, dry_run=dry_run, break_glass=break_glass, now=NOW + timedelta(hours=hours))
    if roles.isdisjoint(cmd.roles):
        assert decision.kind is DecisionKind.DENY
    unknown = run(command, params, None, dry_run=dry_run, break_glass=break_glass)
    assert unknown.kind is DecisionKind.DENY
