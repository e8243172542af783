"""The IAM permissions for charts and log lines cover every call AwsAlertContext makes, and no more.

The alert context runs against the emulator as the prod environment's role with a CallRecorder on
every client: once with a query that finishes, once with one that is stopped at the deadline.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from opsgate.adapters.aws.alert_context import AwsAlertContext
from opsgate.adapters.aws.iam_policy import CallRecorder, RecordedCall, alert_context_permissions, policy_for
from opsgate.domain.alert_context import LogQuery
from opsgate.domain.catalog import Catalog
from opsgate.domain.intake import Intake
from opsgate.domain.notification_rules import AlarmContextRule, NotificationRules
from opsgate.sandbox.moto_extensions import hold_queries
from opsgate.wiring import iam_policies
from tests.adapters.aws.sandbox_fixtures import PROD
from tests.adapters.aws.alert_context_fixtures import (  # noqa: F401  (fixtures)
    ERRORS,
    GROUP,
    alarm_alert,
    clock,
    cloudwatch,
    logs,
    prod_clients,
    run_ctx,
    sandbox_endpoint,
)


def called_resource(call: RecordedCall) -> str:
    match call.action:
        case "logs:StartQuery":
            return f"arn:aws:logs:{PROD.region}:{PROD.account}:log-group:{call.params['logGroupName']}"
        case "cloudwatch:DescribeAlarms" | "cloudwatch:GetMetricWidgetImage" | "logs:GetQueryResults" | "logs:StopQuery":
            return "*"  # no resource-level permissions
    raise AssertionError(f"the test does not know which resource {call.action} touches")


def uncovered(calls: list[RecordedCall], policy: dict) -> list[tuple[str, str]]:
    granted = {s["Action"]: s["Resource"] for s in policy["Statement"]}
    needed = [(call.action, called_resource(call)) for call in calls]
    return [(action, resource) for action, resource in needed
            if not any(fnmatchcase(resource, pattern) for pattern in granted.get(action, []))]


def record_every_path(hooked_sessions, clock) -> list[RecordedCall]:
    recorder = CallRecorder()
    context = AwsAlertContext(hooked_sessions(recorder.attach), [PROD], clock, time_budget_s=2, poll_s=0.5,
                              sleep=lambda seconds: clock.advance(seconds))
    assert context.attachments(alarm_alert(), LogQuery(GROUP, ERRORS)).problems == ()
    hold_queries(100, account_id=PROD.account, region=PROD.region)
    [stopped] = context.attachments(alarm_alert(), LogQuery(GROUP, ERRORS)).problems
    assert "it was stopped" in stopped
    return [call for call in recorder.calls if call.service != "sts"]  # STS is the trust side


def test_the_permissions_cover_every_call_and_grant_nothing_unused(cloudwatch, logs, hooked_sessions, clock):
    made = record_every_path(hooked_sessions, clock)
    policy = policy_for(PROD, alert_context_permissions(PROD, [GROUP]))
    assert {call.action for call in made} == {s["Action"] for s in policy["Statement"]} == {
        "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricWidgetImage", "logs:StartQuery", "logs:GetQueryResults",
        "logs:StopQuery"}
    assert uncovered(made, policy) == []
    # The check catches a gap: with another log group only, StartQuery on this one is reported.
    elsewhere = policy_for(PROD, alert_context_permissions(PROD, ["/app/other"]))
    assert {action for action, _ in uncovered(made, elsewhere)} == {"logs:StartQuery"}


def test_start_query_is_granted_on_the_configured_log_groups_only():
    permissions = alert_context_permissions(PROD, ["/app/web", "/app/api", "/app/web"])
    groups = sorted(p.resource for p in permissions if p.action == "logs:StartQuery")
    base = f"arn:aws:logs:{PROD.region}:{PROD.account}:log-group:"
    assert groups == [base + "/app/api", base + "/app/api:*", base + "/app/web", base + "/app/web:*"]


def test_without_log_queries_only_the_chart_is_granted():
    assert {(p.action, p.resource) for p in alert_context_permissions(PROD)} == {
        ("cloudwatch:DescribeAlarms", "*"), ("cloudwatch:GetMetricWidgetImage", "*")}


def catalog(**sections) -> Catalog:
    return Catalog(environments={"prod": PROD}, people={}, roles={}, commands={}, **sections)


def test_iam_policy_grants_charts_and_log_queries_when_alarms_can_arrive():
    rules = NotificationRules(context=(AlarmContextRule("web-*", GROUP, ERRORS),))
    policy = iam_policies(catalog(intake=Intake(sns_topics=("arn:aws:sns:eu-west-1:1:alerts",)), notifications=rules),
                          ["prod"], "arn:aws:iam::999999999999:role/opsgate")["prod"]["policy"]
    granted = {s["Action"]: s["Resource"] for s in policy["Statement"]}
    assert granted["cloudwatch:GetMetricWidgetImage"] == ["*"]
    assert granted["logs:StartQuery"] == [f"arn:aws:logs:{PROD.region}:{PROD.account}:log-group:{GROUP}",
                                          f"arn:aws:logs:{PROD.region}:{PROD.account}:log-group:{GROUP}:*"]


def test_iam_policy_grants_none_of_it_without_an_intake():
    policy = iam_policies(catalog(), ["prod"], "arn:aws:iam::999999999999:role/opsgate")["prod"]["policy"]
    assert not any(s["Action"].startswith("logs:") or s["Action"] == "cloudwatch:GetMetricWidgetImage"
                   for s in policy["Statement"])
