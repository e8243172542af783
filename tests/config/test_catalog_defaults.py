"""What the catalog means when a key is left out."""

from __future__ import annotations

import pytest

from opsgate.config import load_catalog_text
from opsgate.domain.catalog import ApprovalRule, EnvironmentRules, LinkRule
from tests.config.catalog_text import build_yaml


def restart(**extra: str) -> str:
    """The base catalog with extra keys in its command (values are YAML text)."""
    keys = "".join(f"    {key}: {value}\n" for key, value in extra.items())
    return build_yaml().replace("    action:", keys + "    action:", 1)


def load_restart(**extra: str):
    return load_catalog_text(restart(**extra)).commands["restart"]


def test_mutating_command_needs_one_approval_in_a_protected_environment():
    command = load_restart()
    assert command.rules_for("prod").approval == ApprovalRule(count=1, implied=True)


def test_unprotected_environment_needs_no_approval_unless_declared():
    command = load_restart()
    assert command.rules_for("dev").approval is None
    assert command.default_rules.approval is None


def test_read_command_needs_no_approval_in_a_protected_environment():
    text = build_yaml().replace("class: mutate", "class: read")
    assert load_catalog_text(text).commands["restart"].rules_for("prod").approval is None


def test_command_approval_applies_in_every_environment():
    command = load_restart(approval="{count: 2, roles: [sre], ttl: 30m}")
    expected = ApprovalRule(count=2, roles=("sre",), ttl_s=1800)
    assert command.rules_for("dev").approval == expected
    assert command.rules_for("prod").approval == expected
    assert command.rules_for(None).approval == expected


def test_environment_override_wins_over_command_rules():
    command = load_restart(
        approval="{count: 1, roles: [sre]}",
        environments="\n      prod:\n        approval: {count: 2, roles: [dev, sre], ttl: 2h}\n        confirm: true",
    )
    assert command.rules_for("prod") == EnvironmentRules(approval=ApprovalRule(2, ("dev", "sre"), 7200), confirm=True, link=None)
    assert command.rules_for("dev") == EnvironmentRules(approval=ApprovalRule(1, ("sre",), 3600), confirm=False, link=None)


def test_environment_rules_are_filled_for_every_environment():
    command = load_restart()
    assert set(command.environment_rules) == {"dev", "prod"}


def test_link_rule_from_command_and_override():
    command = load_restart(
        link='{required: true, patterns: ["https://github\\\\.com/acme/.+/pull/\\\\d+"]}',
        environments='\n      prod: {link: {required: true, patterns: ["https://acme\\\\.atlassian\\\\.net/browse/[A-Z]+-\\\\d+"]}}',
    )
    assert command.rules_for("dev").link.accepts("https://github.com/acme/web/pull/12")
    assert command.rules_for("prod").link.accepts("https://acme.atlassian.net/browse/OPS-7")
    assert not command.rules_for("prod").link.accepts("https://github.com/acme/web/pull/12")


def test_link_defaults_to_required_any_https_url():
    command = load_restart(link="{}")
    assert command.default_rules.link == LinkRule(required=True, patterns=())


def test_destructive_command_confirms_by_default():
    text = build_yaml().replace("class: mutate", "class: destructive")
    command = load_catalog_text(text).commands["restart"]
    assert command.default_rules.confirm is True
    assert command.rules_for("dev").confirm is True


def test_mutating_command_does_not_confirm_by_default():
    assert load_restart().rules_for("dev").confirm is False


def test_environment_parameter_takes_the_environment_names():
    command = load_restart()
    assert command.parameter("env").values == ("dev", "prod")
    assert command.environment_parameter is command.parameter("env")


def test_parameter_without_default_is_required():
    command = load_restart()
    assert command.parameter("service").required is True


@pytest.mark.parametrize(
    ("declared", "required", "default"),
    [
        ("{name: count, type: integer, default: 3}", False, 3),
        ("{name: force, type: bool, default: false}", False, False),
        ("{name: reason, required: false, default: ''}", False, ""),
        ("{name: note, required: false}", False, None),
        ("{name: level, type: enum, values: [Low, High], default: high}", False, "High"),
        ("{name: target, type: environment, default: dev}", False, "dev"),
    ],
)
def test_parameter_defaults_are_converted_and_make_it_optional(declared, required, default):
    text = build_yaml().replace("{name: env, type: environment}", declared).replace(" in {env}", "")
    command = load_catalog_text(text).commands["restart"]
    parameter = command.parameters[1]
    assert (parameter.required, parameter.default) == (required, default)


def test_string_parameter_defaults():
    text = build_yaml().replace("{name: env, type: environment}", "{name: env, type: environment}\n      - {name: note}")
    note = load_catalog_text(text).commands["restart"].parameter("note")
    assert (note.max_length, note.pattern, note.secret) == (256, None, False)


@pytest.mark.parametrize(("ttl", "seconds"), [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("3600", 3600), ("45", 45)])
def test_durations(ttl, seconds):
    command = load_restart(approval=f"{{count: 1, ttl: {ttl}}}")
    assert command.default_rules.approval.ttl_s == seconds


def test_rate_limit():
    command = load_restart(rate_limit="{count: 5, per: 1h}")
    assert (command.rate_limit.count, command.rate_limit.per_s) == (5, 3600)


def test_command_without_environment_parameter_has_only_default_rules():
    text = build_yaml().replace("      - {name: env, type: environment}\n", "").replace(" in {env}", "")
    command = load_catalog_text(text).commands["restart"]
    assert command.environment_rules == {}
    assert command.rules_for(None) == EnvironmentRules(approval=None, confirm=False, link=None)


def test_argument_rule_values_are_stored_as_permits_compares_them():
    command = load_restart(
        argument_rules="\n      - {role: dev, allow: {env: [DEV], service: [Web]}}",
    )
    [rule] = command.argument_rules
    assert rule.allow == {"env": ("dev",), "service": ("web",)}
    assert rule.permits({"env": "dev", "service": "web"})
    assert not rule.permits({"env": "prod", "service": "web"})


def test_freeze_timezone_defaults_to_the_environment():
    environments = (
        'environments:\n  - name: prod\n    account: "222222222222"\n    region: eu-west-1\n    timezone: Asia/Tokyo\n'
        '    freezes:\n      - {name: a, start: "2026-12-20 00:00", end: "2027-01-04 00:00"}\n'
        '      - {name: b, weekly: {days: [fri, fri, sat], from: "22:00", to: "02:00"}, timezone: UTC}\n'
    )
    env = load_catalog_text(build_yaml(environments=environments)).environments["prod"]
    assert env.timezone == "Asia/Tokyo"
    assert [w.timezone for w in env.freezes] == ["Asia/Tokyo", "UTC"]
    assert env.freezes[1].days == ("fri", "sat")


def test_environment_defaults():
    env = load_catalog_text(build_yaml()).environments["dev"]
    assert (env.protected, env.role_arn, env.timezone, env.freezes) == (False, None, "UTC", ())


def test_command_defaults():
    command = load_restart()
    assert (command.owner, command.rollback, command.runbook, command.rate_limit, command.channels, command.allow_dm) == (
        "",
        None,
        None,
        None,
        (),
        True,
    )
    assert command.action.kind == "builtin"
    assert command.action.settings == {"operation": "echo", "message": "Restarted {service} in {env}"}


def test_people_and_roles_become_catalog_persons():
    catalog = load_catalog_text(build_yaml())
    bob = catalog.identify("slack", "U2")
    assert bob is not None and bob.roles == frozenset({"dev", "sre"}) and bob.permissions == frozenset({"approve"})
    assert catalog.identify("slack", "bob") is None
