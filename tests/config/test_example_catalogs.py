"""examples/opsgate.yaml loads and means what its comments say; examples/bad/*.yaml fail as documented."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsgate.config import load_catalog_text
from opsgate.wiring import catalog_from
from opsgate.domain.catalog import ApprovalRule, CommandClass, ParamType
from opsgate.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def catalog():
    return catalog_from(EXAMPLES / "opsgate.yaml")  # with every action kind this opsgate ships


def test_example_loads_with_its_path_as_source(catalog):
    assert catalog.source == str(EXAMPLES / "opsgate.yaml")
    assert list(catalog.environments) == ["dev", "staging", "prod"]
    assert list(catalog.people) == ["alice", "bob", "carol", "dave", "erin", "scheduler"]


def test_example_commands(catalog):
    assert {name: c.command_class for name, c in catalog.commands.items()} == {
        "deploy status": CommandClass.READ,
        "deploy history": CommandClass.READ,
        "rollback": CommandClass.MUTATE,
        "restart": CommandClass.MUTATE,
        "runbook run": CommandClass.MUTATE,
        "service rollback": CommandClass.MUTATE,
        "deploy rollback": CommandClass.MUTATE,
        "deploy stop": CommandClass.DESTRUCTIVE,
        "pipeline approve": CommandClass.MUTATE,
        "pipeline reject": CommandClass.MUTATE,
        "alarms": CommandClass.READ,
        "cost": CommandClass.READ,
        "env": CommandClass.READ,
        "cache flush": CommandClass.DESTRUCTIVE,
        "runbook": CommandClass.READ,
        "secret rotate": CommandClass.MUTATE,
    }
    # every change goes through automation that exists in AWS; the runbook search is opsgate's own
    assert {c.name for c in catalog.commands.values() if c.action.kind in ("builtin", "runbook-search")} == {"runbook"}


def test_example_only_prod_is_protected(catalog):
    assert [e.name for e in catalog.environments.values() if e.protected] == ["prod"]


def test_example_prod_freezes(catalog):
    prod = catalog.environments["prod"]
    year_end, friday = prod.freezes
    assert year_end.active_until(datetime(2026, 12, 24, 12, tzinfo=BERLIN)) == datetime(2027, 1, 4, tzinfo=BERLIN)
    assert friday.active_until(datetime(2026, 6, 5, 17, tzinfo=BERLIN)) is not None  # a Friday
    assert friday.active_until(datetime(2026, 6, 4, 17, tzinfo=BERLIN)) is None  # a Thursday


def test_example_people_roles_and_identities(catalog):
    assert catalog.identify("slack", "U02BOB").roles == frozenset({"developer", "sre"})
    assert catalog.person("carol").permissions == frozenset({"approve", "break-glass", "lock", "unlock-any", "audit",
                                                             "stats", "ack", "silence"})
    assert catalog.person("dave").permissions == frozenset({"approve", "lock", "stats"})
    assert catalog.person("erin").permissions == frozenset({"audit", "stats"})
    for person_id, entry in catalog.people.items():
        if "schedule" in entry.identities:  # the service identity scheduled checks run as: no chat id
            assert entry.identities == {"schedule": person_id}
            continue
        assert entry.identities["console"] == person_id
        assert entry.identities["slack"].startswith("U")


def test_example_rollback_gates(catalog):
    rollback = catalog.commands["rollback"]
    assert rollback.rules_for("staging").approval is None
    prod = rollback.rules_for("prod")
    assert prod.approval == ApprovalRule(count=1, roles=("sre", "release-manager"), ttl_s=1800)
    assert prod.link.accepts("https://github.com/acme/web/pull/123")
    assert prod.link.accepts("https://acme.atlassian.net/browse/OPS-42")
    assert not prod.link.accepts("https://example.com/anything")
    assert (rollback.rate_limit.count, rollback.rate_limit.per_s) == (5, 3600)
    [rule] = rollback.argument_rules
    assert (rule.role, rule.allow) == ("developer", {"env": ("dev", "staging")})


def test_example_restart_gets_the_protected_default(catalog):
    restart = catalog.commands["restart"]
    assert restart.rules_for("prod").approval == ApprovalRule(count=1, implied=True)
    assert restart.rules_for("dev").approval is None
    assert catalog.approvers_for(restart.rules_for("prod").approval) == ("sre", "release-manager")


def test_example_cache_flush_asks_for_typed_confirmation(catalog):
    flush = catalog.commands["cache flush"]
    assert all(flush.rules_for(env).confirm for env in catalog.environments)
    assert flush.allow_dm is False and flush.channels == ("C0OPS", "console")


def test_example_secret_parameter(catalog):
    rotate = catalog.commands["secret rotate"]
    assert rotate.parameter("value").secret is True
    # the value goes into the Lambda payload only, never into a setting that is shown in chat
    assert rotate.action.kind == "lambda" and rotate.action.settings["payload"]["value"] == "{value}"
    assert "{value}" not in rotate.action.settings["function"]


def test_example_environment_parameters_take_environment_names(catalog):
    for command in catalog.commands.values():
        for parameter in command.parameters:
            if parameter.type is ParamType.ENVIRONMENT:
                assert parameter.values == ("dev", "staging", "prod")
    assert catalog.commands["deploy status"].parameter("env").default == "prod"


BAD = sorted((EXAMPLES / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_example_reports_exactly_its_expected_problems(path):
    text = path.read_text()
    expected = [line.removeprefix("# expect: ") for line in text.splitlines() if line.startswith("# expect: ")]
    assert expected, f"{path.name} lists no `# expect:` lines"
    with pytest.raises(ConfigError) as caught:
        load_catalog_text(text, path.name)
    assert caught.value.problems == expected


def test_example_notifications_route_and_group_as_their_comments_say(catalog):
    from opsgate.domain.alerts import Severity
    from tests.core.notifications.alert_samples import alert

    rules = catalog.notifications
    assert rules.route(alert("finding", source="guardduty"), "console") == [("security", "C0SECURITY")]
    assert rules.route(alert("a", severity=Severity.CRITICAL), "console") == [
        ("prod-pages", "C0ONCALL"), ("default", "C0ALERTS")]
    assert rules.route(alert("a", environment="dev"), "console") == [("dev", "C0DEV")]
    assert rules.grouping_for("dev").group_wait_s == 120 and rules.grouping_for("dev").group_interval_s == 300
    assert [str(m) for m in rules.owners_of("web-release").people] == ["alice", "bob"]
    assert rules.context[0].log_group == "/ecs/web"

