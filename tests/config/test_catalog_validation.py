"""Each catalog rule, asserted as the exact `file:line path: message` a reviewer would read."""

from __future__ import annotations

import re

from opsgate.config import load_catalog_text
from opsgate.config.models import RESERVED_COMMAND_NAMES
from tests.config.catalog_text import ENVIRONMENTS, PEOPLE, ROLES, build_yaml, line_of, problems_of

PROBLEM_FORMAT = re.compile(r"^opsgate\.yaml:\d+ [^:]+: .+$", re.DOTALL)


def command(**overrides: str) -> str:
    """The base `restart` command with some keys' YAML text replaced or added."""
    fields = {
        "name": "restart",
        "summary": "Restart a service",
        "class": "mutate",
        "roles": "[dev, sre]",
        "parameters": "\n    - {name: service, type: enum, values: [web, api]}\n    - {name: env, type: environment}",
        "action": '{kind: builtin, operation: echo, message: "Restarted {service} in {env}"}',
    }
    fields.update(overrides)
    lines = [f"{key}: {value}" for key, value in fields.items() if value is not None]
    return "- " + "\n  ".join(lines) + "\n"


def assert_problem(text: str, marker: str, path: str, message: str, **kwargs) -> None:
    """`marker` finds the line; below `commands:` when the path is in a command."""
    after = "commands:" if path.startswith("commands") else None
    expected = f"opsgate.yaml:{line_of(text, marker, after=after)} {path}: {message}"
    found = problems_of(text, **kwargs)
    assert expected in found, "\n".join(found)


# --- the base catalog is valid -----------------------------------------------------------------


def test_base_catalog_loads():
    catalog = load_catalog_text(build_yaml())
    assert list(catalog.commands) == ["restart"]


# --- keys ----------------------------------------------------------------------------------------


def test_unknown_key_lists_allowed_keys_and_guesses():
    text = build_yaml(command(aproval="{count: 1}"))
    assert_problem(
        text,
        "aproval:",
        "commands[0].aproval",
        "unknown key; did you mean 'approval'? allowed keys: action, allow_dm, approval, argument_rules, channels, "
        "class, confirm, environments, link, name, owner, parameters, rate_limit, roles, rollback, runbook, summary",
    )


def test_unknown_top_level_key():
    text = build_yaml() + "extras: 1\n"
    assert_problem(text, "extras:", "extras", "unknown key; allowed keys: commands, environments, incidents, intake, notifications, people, roles, runbooks, schedules, timezone, version")


def test_missing_key_points_at_its_mapping():
    text = build_yaml(command(summary=None))
    assert_problem(text, "- name: restart", "commands[0].summary", "is required")


def test_version_must_be_1():
    text = build_yaml().replace("version: 1", "version: 2")
    assert_problem(text, "version: 2", "version", "must be 1 (got 2)")


def test_section_must_be_a_list():
    text = build_yaml(roles="roles: {dev: [alice]}\n")
    assert_problem(text, "roles: {dev", "roles", "must be a list")


def test_empty_value_is_reported_as_missing_value():
    text = build_yaml(command(roles=""))
    assert_problem(text, "roles: ", "commands[0].roles", "has no value; write one or remove the key")


# --- environments --------------------------------------------------------------------------------


def test_environment_name_pattern():
    text = build_yaml(environments=ENVIRONMENTS.replace("name: dev", "name: Dev"))
    assert_problem(
        text, "name: Dev", "environments[0].name", "must be lowercase letters, digits and '-', starting with a letter (got 'Dev')"
    )


def test_unquoted_account_asks_for_quotes():
    text = build_yaml(environments=ENVIRONMENTS.replace('"111111111111"', "111111111111"))
    assert_problem(
        text, "account: 111111111111", "environments[0].account", "must be text; put 111111111111 in quotes if it is meant literally"
    )


def test_account_must_have_12_digits():
    text = build_yaml(environments=ENVIRONMENTS.replace('"111111111111"', '"1111"'))
    assert_problem(text, '"1111"', "environments[0].account", "must be a 12-digit AWS account id in quotes (got '1111')")


def test_role_arn_account_must_match_environment():
    text = build_yaml(
        environments=ENVIRONMENTS.replace("    region: eu-west-1\n", "    region: eu-west-1\n    role_arn: arn:aws:iam::999999999999:role/x\n", 1)
    )
    assert_problem(text, "role_arn:", "environments[0].role_arn", "is in account 999999999999, but the environment's account is 111111111111")


def test_timezone_must_be_iana():
    text = build_yaml(environments=ENVIRONMENTS.replace("    protected: true\n", "    protected: true\n    timezone: Berlin\n"))
    assert_problem(
        text, "timezone: Berlin", "environments[1].timezone", "'Berlin' is not an IANA time zone; use a name such as UTC or Europe/Berlin"
    )


def test_duplicate_environment_names():
    text = build_yaml(environments=ENVIRONMENTS.replace("name: prod", "name: dev"))
    expected = f"opsgate.yaml:{line_of(text, 'name: dev', 2)} environments[1].name: duplicate environment 'dev' (first declared on line {line_of(text, 'name: dev')})"
    assert expected in problems_of(text)


# --- freezes -------------------------------------------------------------------------------------


def freeze_env(freeze: str) -> str:
    return ENVIRONMENTS + "    freezes:\n" + "\n".join("      " + line for line in freeze.strip().splitlines()) + "\n"


def test_freeze_needs_a_window():
    text = build_yaml(environments=freeze_env("- name: nothing"))
    assert_problem(text, "- name: nothing", "environments[1].freezes[0]", "needs start and end (a date range) or weekly (a repeating window)")


def test_freeze_cannot_be_both_absolute_and_weekly():
    text = build_yaml(
        environments=freeze_env(
            '- name: both\n  start: "2026-12-20 00:00"\n  end: "2026-12-21 00:00"\n  weekly: {days: [fri], from: "16:00", to: "20:00"}'
        )
    )
    assert_problem(text, "weekly:", "environments[1].freezes[0].weekly", "a freeze has either start and end, or weekly; not both")


def test_freeze_end_must_follow_start():
    text = build_yaml(environments=freeze_env('- name: backwards\n  start: "2026-12-20 00:00"\n  end: "2026-12-19 00:00"'))
    assert_problem(text, "end:", "environments[1].freezes[0].end", "must be after start (2026-12-20 00:00)")


def test_freeze_start_needs_end():
    text = build_yaml(environments=freeze_env('- name: open\n  start: "2026-12-20 00:00"'))
    assert_problem(text, "- name: open", "environments[1].freezes[0].end", "is required together with start")


def test_freeze_dates_and_times_are_checked():
    text = build_yaml(environments=freeze_env('- name: bad\n  weekly: {days: [friday], from: "4pm", to: "20:00"}'))
    found = problems_of(text)
    at = line_of(text, "weekly:")
    assert f"opsgate.yaml:{at} environments[1].freezes[0].weekly.days[0]: must be one of 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun' (got 'friday')" in found
    assert f'opsgate.yaml:{at} environments[1].freezes[0].weekly.from: must be a time of day "HH:MM" in quotes, like "16:00"' in found


def test_freeze_date_must_exist():
    text = build_yaml(environments=freeze_env('- name: bad\n  start: "2026-02-30 00:00"\n  end: "2026-03-02 00:00"'))
    assert_problem(text, "start:", "environments[1].freezes[0].start", "is not a valid date and time: day is out of range for month")


def test_duplicate_freeze_names():
    text = build_yaml(
        environments=freeze_env(
            '- name: f\n  weekly: {days: [fri], from: "16:00", to: "20:00"}\n- name: f\n  weekly: {days: [sat], from: "16:00", to: "20:00"}'
        )
    )
    expected = f"opsgate.yaml:{line_of(text, '- name: f', 2)} environments[1].freezes[1].name: duplicate freeze 'f' (first declared on line {line_of(text, '- name: f')})"
    assert expected in problems_of(text)


# --- people and roles ----------------------------------------------------------------------------


def test_duplicate_person_ids():
    text = build_yaml(people=PEOPLE.replace("id: carol", "id: bob"))
    expected = f"opsgate.yaml:{line_of(text, 'id: bob', 2)} people[2].id: duplicate person id 'bob' (first declared on line {line_of(text, 'id: bob')})"
    assert expected in problems_of(text)


def test_one_person_per_chat_identity():
    text = build_yaml(people=PEOPLE.replace("{slack: U2,", "{slack: U1,"))
    expected = f"opsgate.yaml:{line_of(text, 'slack: U1', 2)} people[1].identities.slack: slack id U1 already belongs to 'alice' (line {line_of(text, 'slack: U1')})"
    assert expected in problems_of(text)


def test_identity_platform_must_be_a_name():
    text = build_yaml(people=PEOPLE.replace("{slack: U1,", "{Slack: U1,"))
    assert_problem(
        text, "Slack: U1", "people[0].identities.Slack", "key must be lowercase letters, digits and '-', starting with a letter (got 'Slack')"
    )


def test_role_members_must_be_people():
    text = build_yaml(roles=ROLES.replace("[alice, bob]", "[alice, bobby]"))
    assert_problem(text, "bobby", "roles[0].members[1]", "unknown person 'bobby'; did you mean 'bob'? (people: alice, bob, carol)")


def test_duplicate_role_names():
    text = build_yaml(roles=ROLES.replace("name: sre", "name: dev"))
    first, second = line_of(text, "name: dev", after="roles:"), line_of(text, "name: dev", 2, after="roles:")
    expected = f"opsgate.yaml:{second} roles[1].name: duplicate role 'dev' (first declared on line {first})"
    assert expected in problems_of(text)


def test_permissions_must_be_known():
    text = build_yaml(roles=ROLES.replace("[approve]", "[approve, admin]"))
    assert_problem(
        text, "admin", "roles[1].permissions[1]", "must be one of 'approve', 'break-glass', 'lock', 'unlock-any', 'audit', 'incident-manage', 'ack', 'silence' or 'stats' (got 'admin')"
    )


# --- command names -------------------------------------------------------------------------------


def test_command_name_has_at_most_two_words():
    text = build_yaml(command(name="db password rotate"))
    assert_problem(
        text,
        "db password rotate",
        "commands[0].name",
        "must be one or two lowercase words (letters, digits, '-'), like 'rollback' or 'deploy status' (got 'db password rotate')",
    )


def test_command_name_is_lowercase():
    text = build_yaml(command(name="Restart"))
    assert_problem(text, "name: Restart", "commands[0].name", "must be one or two lowercase words (letters, digits, '-'), like 'rollback' or 'deploy status' (got 'Restart')")


def test_reserved_command_names_are_refused():
    for name in ("help", "approve all", "incident declare", "incident open"):
        text = build_yaml(command(name=name))
        reserved = ", ".join(sorted({n.split()[0] for n in RESERVED_COMMAND_NAMES}))
        first = name.split()[0]
        assert_problem(text, f"name: {name}", "commands[0].name", f"'{first}' is one of opsgate's own commands ({reserved}); choose another name")


def test_reserved_names_cover_opsgates_builtin_commands():
    from opsgate.core.builtins import BUILTIN_NAMES

    assert BUILTIN_NAMES <= RESERVED_COMMAND_NAMES


def test_duplicate_command_names():
    text = build_yaml(command() + command())
    expected = f"opsgate.yaml:{line_of(text, 'name: restart', 2)} commands[1].name: duplicate command 'restart' (first declared on line {line_of(text, 'name: restart')})"
    assert expected in problems_of(text)


def test_command_class_must_be_known():
    text = build_yaml(command(**{"class": "write"}))
    assert_problem(text, "class: write", "commands[0].class", "must be one of 'read', 'mutate' or 'destructive' (got 'write')")


# --- references from commands ------------------------------------------------------------------


def test_command_roles_must_exist():
    text = build_yaml(command(roles="[dev, ops]"))
    assert_problem(text, "roles: [dev, ops]", "commands[0].roles[1]", "unknown role 'ops' (roles: dev, sre)")


def test_argument_rule_role_must_exist():
    text = build_yaml(command(argument_rules="\n    - {role: devs, allow: {env: [dev]}}"))
    assert_problem(text, "role: devs", "commands[0].argument_rules[0].role", "unknown role 'devs'; did you mean 'dev'? (roles: dev, sre)")


def test_argument_rule_role_must_be_able_to_run_the_command():
    text = build_yaml(command(roles="[dev]", argument_rules="\n    - {role: sre, allow: {env: [dev]}}"))
    assert_problem(
        text, "role: sre", "commands[0].argument_rules[0].role", "'sre' may not run this command (roles: dev), so this rule never applies"
    )


def test_argument_rule_keys_must_be_parameters():
    text = build_yaml(command(argument_rules="\n    - {role: dev, allow: {environment: [dev]}}"))
    assert_problem(
        text, "allow: {environment", "commands[0].argument_rules[0].allow.environment", "unknown parameter 'environment' (parameters: service, env)"
    )


def test_argument_rule_values_must_be_valid_for_the_parameter():
    text = build_yaml(command(argument_rules="\n    - {role: dev, allow: {env: [dev, stage], service: [web, db]}}"))
    found = problems_of(text)
    at = line_of(text, "role: dev,")
    assert f"opsgate.yaml:{at} commands[0].argument_rules[0].allow.env[1]: 'stage' must be one of dev, prod (allowed values must be valid for parameter 'env')" in found
    assert f"opsgate.yaml:{at} commands[0].argument_rules[0].allow.service[1]: 'db' must be one of web, api (allowed values must be valid for parameter 'service')" in found


def test_approval_roles_must_exist():
    text = build_yaml(command(approval="{count: 1, roles: [sres]}"))
    assert_problem(text, "approval:", "commands[0].approval.roles[0]", "unknown role 'sres'; did you mean 'sre'? (roles: dev, sre)")


def test_environment_overrides_must_name_environments():
    text = build_yaml(command(environments="\n    production: {confirm: true}"))
    assert_problem(text, "production:", "commands[0].environments.production", "unknown environment 'production' (environments: dev, prod)")


def test_environment_overrides_need_an_environment_parameter():
    text = build_yaml(command(parameters="[]", action="{kind: builtin, operation: echo, message: hi}", environments="\n    prod: {confirm: true}"))
    assert_problem(
        text, "environments:", "commands[0].environments", "per-environment rules need a parameter of type environment, and this command has none"
    )


def test_rollback_must_be_a_command():
    text = build_yaml(command(rollback="undo"))
    assert_problem(text, "rollback: undo", "commands[0].rollback", "unknown command 'undo' (commands: restart)")


def test_rollback_cannot_be_itself():
    text = build_yaml(command(rollback="restart"))
    assert_problem(text, "rollback: restart", "commands[0].rollback", "a command cannot be its own rollback")


def test_reference_to_a_broken_item_is_not_also_unknown():
    # The role `sre` is broken (bad permission); commands naming it must not add "unknown role".
    text = build_yaml(roles=ROLES.replace("[approve]", "[approve, admin]"))
    found = problems_of(text)
    assert not [p for p in found if "unknown role" in p], found


# --- parameters ----------------------------------------------------------------------------------


def params(*items: str) -> str:
    return "".join(f"\n    - {item}" for item in items)


def test_duplicate_parameter_names():
    text = build_yaml(command(parameters=params("{name: service, type: enum, values: [web]}", "{name: service}")))
    expected = f"opsgate.yaml:{line_of(text, '- {name: service}')} commands[0].parameters[1].name: duplicate parameter 'service' (first declared on line {line_of(text, 'values: [web]')})"
    assert expected in problems_of(text)


def test_enum_needs_values():
    text = build_yaml(command(parameters=params("{name: service, type: enum}", "{name: env, type: environment}")))
    assert_problem(text, "type: enum}", "commands[0].parameters[0]", "an enum parameter needs a list of values")


def test_values_only_apply_to_enums():
    text = build_yaml(command(parameters=params("{name: service, values: [web]}", "{name: env, type: environment}")))
    assert_problem(text, "values: [web]", "commands[0].parameters[0].values", "only applies to enum parameters (this one is string)")


def test_pattern_must_compile():
    text = build_yaml(command(parameters=params('{name: service, pattern: "web("}', "{name: env, type: environment}")))
    assert_problem(
        text, 'pattern: "web("', "commands[0].parameters[0].pattern", "is not a valid regular expression: missing ), unterminated subpattern at position 3"
    )


def test_integer_min_must_not_exceed_max():
    text = build_yaml(command(parameters=params("{name: service}", "{name: env, type: environment}", "{name: count, type: integer, min: 5, max: 1}")))
    assert_problem(text, "min: 5", "commands[0].parameters[2].max", "must be >= min (5)")


def test_default_must_be_valid_for_the_parameter():
    text = build_yaml(
        command(parameters=params("{name: service, type: enum, values: [web], default: db}", "{name: env, type: environment}", "{name: count, type: integer, max: 3, default: 9}"))
    )
    found = problems_of(text)
    assert f"opsgate.yaml:{line_of(text, 'default: db')} commands[0].parameters[0].default: 'db' must be one of web; a default must itself be valid" in found
    assert f"opsgate.yaml:{line_of(text, 'default: 9')} commands[0].parameters[2].default: '9' must be a whole number <= 3; a default must itself be valid" in found


def test_default_and_required_true_contradict():
    text = build_yaml(command(parameters=params("{name: service, required: true, default: web}", "{name: env, type: environment}")))
    assert_problem(
        text, "default: web", "commands[0].parameters[0].required", "a parameter with a default is optional; remove the default or `required: true`"
    )


def test_secret_only_on_string_parameters():
    text = build_yaml(command(parameters=params("{name: service}", "{name: env, type: environment}", "{name: n, type: integer, secret: true}")))
    assert_problem(text, "secret: true", "commands[0].parameters[2].secret", "only applies to string parameters (this one is integer)")


def test_secret_parameter_cannot_have_a_default():
    text = build_yaml(command(parameters=params("{name: service}", "{name: env, type: environment}", "{name: token, secret: true, default: hunter2}")))
    assert_problem(
        text, "default: hunter2", "commands[0].parameters[2].default", "a secret parameter cannot have a default: it would be readable in the catalog"
    )


def test_at_most_one_environment_parameter():
    text = build_yaml(command(parameters=params("{name: service}", "{name: env, type: environment}", "{name: target, type: environment}")))
    assert_problem(text, "name: target", "commands[0].parameters[2].type", "a command takes at most one environment parameter")


def test_parameter_names_fit_templates():
    text = build_yaml(command(parameters=params("{name: my-service}", "{name: env, type: environment}")))
    assert_problem(
        text, "my-service", "commands[0].parameters[0].name", "must be lowercase letters, digits and '_', starting with a letter (got 'my-service')"
    )


# --- gates ---------------------------------------------------------------------------------------


def test_approval_count_at_least_1():
    text = build_yaml(command(approval="{count: 0}"))
    assert_problem(text, "count: 0", "commands[0].approval.count", "must be >= 1")


def test_approval_count_at_most_5():
    text = build_yaml(command(approval="{count: 6}"))
    assert_problem(text, "count: 6", "commands[0].approval.count", "must be <= 5")


def test_approval_count_cannot_exceed_possible_approvers():
    text = build_yaml(command(approval="{count: 3, roles: [sre]}"))
    assert_problem(text, "count: 3", "commands[0].approval.count", "needs 3 approvals but only 2 people can approve (members of sre)")


def test_approval_ttl_is_a_duration():
    text = build_yaml(command(approval="{count: 1, ttl: soon}"))
    assert_problem(
        text, "ttl: soon", "commands[0].approval.ttl", "'soon' is not a duration; use a number of seconds or parts like 90s, 15m, 2h, 1h30m, 7d"
    )


def test_protected_default_needs_someone_who_can_approve():
    text = build_yaml(roles=ROLES.replace("    permissions: [approve]\n", ""))
    assert_problem(
        text, "class: mutate", "commands[0].class", "needs an approval in prod (protected), but no person holds a role with the approve permission"
    )


def test_link_patterns_must_compile():
    text = build_yaml(command(link='{required: true, patterns: ["https://x/[a-"]}'))
    assert_problem(
        text, "link:", "commands[0].link.patterns[0]", "is not a valid regular expression: unterminated character set at position 10"
    )


def test_read_commands_take_no_gates():
    text = build_yaml(command(**{"class": "read"}, approval="{count: 1}"))
    assert_problem(
        text, "approval:", "commands[0].approval", "read commands run without approval, confirmation or link; use class: mutate to gate it"
    )


def test_destructive_commands_cannot_skip_confirmation():
    text = build_yaml(command(**{"class": "destructive"}, environments="\n    dev: {confirm: false}"))
    assert_problem(
        text, "dev: {confirm", "commands[0].environments.dev.confirm", "destructive commands always need typed confirmation; use class: mutate instead"
    )


def test_rate_limit_window_must_be_positive():
    text = build_yaml(command(rate_limit="{count: 5, per: 0}"))
    assert_problem(text, "rate_limit:", "commands[0].rate_limit.per", "must be > 0")


# --- actions -------------------------------------------------------------------------------------


def test_action_kind_must_be_known():
    text = build_yaml(command(action="{kind: lambda, function: restart}"))
    assert_problem(text, "kind: lambda", "commands[0].action.kind", "unknown action kind 'lambda'; this opsgate runs: builtin")


def test_builtin_operation_and_message():
    text = build_yaml(command(action="{kind: builtin, operation: shout}"))
    found = problems_of(text)
    at = line_of(text, "operation: shout")
    assert f"opsgate.yaml:{at} commands[0].action.operation: must be one of echo, fail (got 'shout')" in found
    assert f'opsgate.yaml:{at} commands[0].action.message: is required: a text template, e.g. "Restarted {{service}} in {{env}}"' in found


def test_builtin_refuses_unknown_settings():
    text = build_yaml(command(action="{kind: builtin, operation: echo, message: hi, colour: red}"))
    assert_problem(text, "colour", "commands[0].action.colour", "unknown key; the builtin action accepts kind, operation, message")


def test_placeholders_must_be_parameters_or_context():
    text = build_yaml(command(action='{kind: builtin, operation: echo, message: "Restarted {servce} by {person}"}'))
    assert_problem(
        text,
        "{servce}",
        "commands[0].action.message",
        "{servce} is not a parameter of this command; placeholders: env, service, request_id, person, environment_account, environment_region",
    )


def test_environment_placeholders_need_an_environment_parameter():
    text = build_yaml(command(parameters="[]", action='{kind: builtin, operation: echo, message: "in {environment_region}"}'))
    assert_problem(
        text, "environment_region", "commands[0].action.message", "{environment_region} needs an environment parameter, and this command has none"
    )


def test_placeholders_are_plain_names():
    text = build_yaml(command(action='{kind: builtin, operation: echo, message: "Restarted {Service} {env.name}"}'))
    found = problems_of(text)
    at = line_of(text, "{Service}")
    assert f"opsgate.yaml:{at} commands[0].action.message: {{Service}} is not filled in; placeholders are plain lowercase names like {{service}}" in found
    assert f"opsgate.yaml:{at} commands[0].action.message: {{env.name}} is not filled in; placeholders are plain lowercase names like {{service}}" in found


def test_custom_action_validator_problems_get_file_line_and_path():
    def validate_lambda(settings: dict) -> list[str]:
        problems = []
        if "function" not in settings:
            problems.append("function: is required")
        for index, item in enumerate(settings.get("payload", {}).get("items", [])):
            if not isinstance(item, str):
                problems.append(f"payload.items[{index}]: must be text")
        if settings.get("async"):
            problems.append("async invocation is not supported")
        return problems

    text = build_yaml(
        command(action="\n    kind: lambda\n    async: true\n    payload:\n      items: [a, 1]\n    region: \"{service}-{env}\"")
    )
    found = problems_of(text, action_validators={"lambda": validate_lambda})
    kind_line = line_of(text, "kind: lambda")
    assert f"opsgate.yaml:{line_of(text, 'action:')} commands[0].action.function: is required" in found
    assert f"opsgate.yaml:{line_of(text, 'items: [a, 1]')} commands[0].action.payload.items[1]: must be text" in found
    assert f"opsgate.yaml:{line_of(text, 'action:')} commands[0].action: async invocation is not supported" in found
    assert kind_line == line_of(text, "action:") + 1


def test_custom_action_kinds_replace_the_defaults():
    text = build_yaml()
    assert_problem(text, "kind: builtin", "commands[0].action.kind", "unknown action kind 'builtin'; this opsgate runs: lambda", action_validators={"lambda": lambda s: []})


# --- all at once, in file order ------------------------------------------------------------------


def test_all_problems_are_reported_at_once_in_file_order():
    text = build_yaml(
        command(name="restart", roles="[dev, ops]", approval="{count: 0}")
        + command(name="flush", **{"class": "explode"}, rollback="nothing"),
        environments=ENVIRONMENTS.replace("region: eu-west-1", "region: europe", 1),
        roles=ROLES.replace("[alice, bob]", "[alice, zed]"),
    )
    found = problems_of(text)
    assert found == [
        f"opsgate.yaml:{line_of(text, 'region: europe')} environments[0].region: must be an AWS region such as eu-west-1 (got 'europe')",
        f"opsgate.yaml:{line_of(text, 'zed')} roles[0].members[1]: unknown person 'zed' (people: alice, bob, carol)",
        f"opsgate.yaml:{line_of(text, 'roles: [dev, ops]')} commands[0].roles[1]: unknown role 'ops' (roles: dev, sre)",
        f"opsgate.yaml:{line_of(text, 'count: 0')} commands[0].approval.count: must be >= 1",
        f"opsgate.yaml:{line_of(text, 'class: explode')} commands[1].class: must be one of 'read', 'mutate' or 'destructive' (got 'explode')",
    ]


def test_a_broken_command_does_not_hide_problems_in_the_next():
    text = build_yaml(command(**{"class": "explode"}) + command(name="other", roles="[nobody]"))
    found = problems_of(text)
    assert any("commands[0].class" in p for p in found)
    assert f"opsgate.yaml:{line_of(text, 'roles: [nobody]')} commands[1].roles[0]: unknown role 'nobody' (roles: dev, sre)" in found


def test_every_problem_has_the_file_line_path_format():
    text = build_yaml(command(aproval=1, roles="[x]", parameters="7", action="{}"), people=PEOPLE + "  - 5\n")
    found = problems_of(text)
    assert found and all(PROBLEM_FORMAT.match(p) for p in found), found


def test_source_names_the_file_in_problems():
    text = build_yaml(command(roles="[x]"))
    from opsgate.errors import ConfigError

    try:
        load_catalog_text(text, "teams/acme/opsgate.yaml")
    except ConfigError as err:
        assert err.problems[0].startswith("teams/acme/opsgate.yaml:")
        assert str(err) == "\n".join(err.problems)
    else:
        raise AssertionError("expected ConfigError")


def test_secret_parameter_may_not_appear_in_a_shown_message():
    text = build_yaml(
        command(
            parameters=params("{name: service}", "{name: env, type: environment}", "{name: token, secret: true}"),
            action='{kind: builtin, operation: echo, message: "stored {token} for {service}"}',
        )
    )
    assert_problem(
        text, "stored {token}", "commands[0].action.message", "{token} is a secret parameter; this text is shown in chat, so it may not contain it"
    )


def test_secret_parameter_may_feed_settings_that_are_not_shown():
    def accept(settings: dict) -> list[str]:
        return []

    text = build_yaml(
        command(
            parameters=params("{name: service}", "{name: env, type: environment}", "{name: token, secret: true}"),
            action='{kind: secrets, secret_string: "{token}"}',
        )
    )
    assert load_catalog_text(text, action_validators={"secrets": accept}).commands["restart"].parameter("token").secret
