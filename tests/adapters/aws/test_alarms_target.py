"""The `alarms` target against moto's CloudWatch (put_metric_alarm, set_alarm_state, tags)."""

from __future__ import annotations

import pytest

from opsgate.adapters.aws.alarms_target import AlarmsTarget, alarm_console_url
from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.target import Permission
from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError

TARGET = AlarmsTarget()


@pytest.fixture
def dev(make_environment):
    return make_environment()


@pytest.fixture
def clients(dev, clients_for):
    return clients_for(dev)


@pytest.fixture
def put_alarm(clients):
    cloudwatch = clients.client("cloudwatch")

    def put(name: str, state: str = "ALARM", reason: str = "Threshold crossed", tags: dict | None = None) -> None:
        cloudwatch.put_metric_alarm(
            AlarmName=name, MetricName="5XXError", Namespace="AWS/ApiGateway", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
        if state != "INSUFFICIENT_DATA":  # the state of a new alarm
            cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

    return put


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_every_setting():
    assert TARGET.validate({"state": "any", "name_prefix": "{service}-", "tags": {"team": "payments"}}) == []


def test_validate_names_the_states_and_the_tag_shape():
    assert TARGET.validate({"state": "FIRING", "tags": {"team": 3}, "region": "x"}) == [
        "region: unknown key; the alarms action accepts kind, state, name_prefix, tags",
        "state: must be ALARM, OK, INSUFFICIENT_DATA or any (got 'FIRING')",
        "tags.team: must be text"]


def test_permissions_are_describe_on_star_and_tag_reads_only_when_filtering_by_tags(dev):
    assert TARGET.permissions({}, dev) == [Permission("cloudwatch:DescribeAlarms", "*")]
    assert TARGET.permissions({"name_prefix": "{service}-", "tags": {"team": "payments"}}, dev) == [
        Permission("cloudwatch:DescribeAlarms", "*"),
        Permission("cloudwatch:ListTagsForResource", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*-*")]


def test_plan_shows_the_filters(dev, make_ctx):
    calls = TARGET.plan({"state": "OK", "name_prefix": "web-", "tags": {"team": "a"}}, dev, make_ctx(dev))
    assert [(c.api, c.target) for c in calls] == [
        ("cloudwatch:DescribeAlarms", "*"),
        ("cloudwatch:ListTagsForResource", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-*")]
    assert calls[0].parameters == {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "StateValue": "OK",
                                   "AlarmNamePrefix": "web-"}


# -- run against moto -----------------------------------------------------------------------------

def test_run_lists_alarms_in_alarm_by_default(put_alarm, clients, dev, make_ctx):
    put_alarm("web-5xx", reason="Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0).")
    put_alarm("web-latency", state="OK")
    result = TARGET.run(clients, {}, make_ctx(dev))
    assert result.ok and not result.pending
    heading, line = result.summary.split("\n")
    assert heading == "1 alarm in ALARM:"
    assert line.startswith("• web-5xx — ALARM since 20") and line.endswith(
        " UTC: Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0).")
    [listed] = result.output["alarms"]
    assert listed["name"] == "web-5xx" and listed["state"] == "ALARM"
    assert listed["console_url"] == alarm_console_url("eu-west-1", "web-5xx") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/web-5xx")


def test_state_and_prefix_filter_together(put_alarm, clients, dev, make_ctx):
    put_alarm("web-5xx")
    put_alarm("web-latency", state="OK")
    put_alarm("db-cpu")
    result = TARGET.run(clients, {"state": "ALARM", "name_prefix": "web-"}, make_ctx(dev))
    assert [a["name"] for a in result.output["alarms"]] == ["web-5xx"]
    assert result.summary.startswith("1 alarm named web-… in ALARM:")


def test_any_state_lists_everything(put_alarm, clients, dev, make_ctx):
    put_alarm("a", state="OK")
    put_alarm("b", state="INSUFFICIENT_DATA")
    put_alarm("c")
    result = TARGET.run(clients, {"state": "any"}, make_ctx(dev))
    assert sorted(a["name"] for a in result.output["alarms"]) == ["a", "b", "c"]
    assert result.summary.startswith("3 alarms:")


def test_tags_keep_only_alarms_carrying_every_tag(put_alarm, clients, dev, make_ctx):
    put_alarm("pay-5xx", tags={"team": "payments", "tier": "1"})
    put_alarm("pay-cpu", tags={"team": "payments"})
    put_alarm("web-5xx", tags={"team": "web", "tier": "1"})
    result = TARGET.run(clients, {"tags": {"team": "payments", "tier": "1"}}, make_ctx(dev))
    assert [a["name"] for a in result.output["alarms"]] == ["pay-5xx"]


def test_only_twenty_alarms_are_listed_and_the_rest_counted(put_alarm, clients, dev, make_ctx):
    for number in range(23):
        put_alarm(f"alarm-{number:02d}")
    result = TARGET.run(clients, {}, make_ctx(dev))
    lines = result.summary.split("\n")
    assert lines[0] == "23 alarms in ALARM:"
    assert len([line for line in lines if line.startswith("• ")]) == 20
    assert lines[-1] == "… and 3 more"
    assert result.output["count"] == 23 and len(result.output["alarms"]) == 23


def test_no_alarms_says_so(clients, dev, make_ctx):
    result = TARGET.run(clients, {"name_prefix": "web-"}, make_ctx(dev))
    assert result.ok and result.summary == "No alarms named web-… in ALARM"


def test_a_filled_state_is_checked_before_any_call(sessions, dev, make_ctx):
    automation = AwsAutomation([TARGET], sessions)
    with pytest.raises(AutomationError, match="state: must be ALARM, OK, INSUFFICIENT_DATA or any"):
        automation.run(ActionSpec("alarms", {"state": "{state}"}), {"state": "RED"}, make_ctx(dev))


def test_poll_refuses(clients, dev, make_ctx):
    with pytest.raises(AutomationError, match="finish at once"):
        TARGET.poll(clients, {}, make_ctx(dev), {})
