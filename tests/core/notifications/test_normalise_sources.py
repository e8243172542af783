"""Every source family, from realistic samples: keys, severities, statuses, environments, links."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opsgate.core.notifications import normalise
from opsgate.domain.alerts import (
    Alert,
    AlertStatus,
    DeploymentEvent,
    DeploymentResult,
    GenericEvent,
    Severity,
)
from tests.core.notifications.event_samples import (
    INDEX,
    NAMES,
    sample,
    sns_message,
    with_message,
)


def one(name: str):
    [item] = normalise(sample(name), INDEX)
    return item


def test_every_fixture_normalises_to_something():
    assert len(NAMES) >= 18
    for name in NAMES:
        assert normalise(sample(name), INDEX), name


def test_cloudwatch_alarm_via_sns():
    a = one("sns_cloudwatch_alarm")
    assert isinstance(a, Alert)
    assert a.key == "cloudwatch:arn:aws:cloudwatch:eu-west-1:222222222222:alarm:web-5xx-high"
    assert (a.source, a.kind, a.status) == ("cloudwatch", "metric_alarm", AlertStatus.FIRING)
    assert a.severity is Severity.CRITICAL  # "severity=critical" in the alarm description
    assert (a.account, a.region, a.environment) == ("222222222222", "eu-west-1", "prod")
    assert a.resource == "app/web-prod/50dc6c495c0c9188"
    assert a.labels["namespace"] == "AWS/ApplicationELB" and a.labels["previous_state"] == "OK"
    assert a.summary.startswith("Threshold Crossed")
    assert a.occurred_at == datetime(2026, 3, 2, 9, 0, 4, 512000, tzinfo=timezone.utc)
    assert a.event_id == "0f3c3b1e-5b1a-5c3e-9a61-2f4a0f0e8b11"
    assert a.console_url == ("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
                             "#alarmsV2:alarm/web-5xx-high")


def test_the_ok_notification_resolves_the_same_alert():
    firing, ok = one("sns_cloudwatch_alarm"), one("sns_cloudwatch_alarm_ok")
    assert ok.key == firing.key and ok.status is AlertStatus.RESOLVED


def test_region_display_name_is_mapped_when_the_alarm_arn_is_absent():
    message = sns_message("sns_cloudwatch_alarm")
    del message["AlarmArn"]
    message["Region"] = "Asia Pacific (Tokyo)"
    [a] = normalise(with_message("sns_cloudwatch_alarm", message), INDEX)
    assert a.region == "ap-northeast-1"
    assert a.key == "cloudwatch:222222222222:ap-northeast-1:web-5xx-high"
    assert a.environment == "prod"  # the only environment in that account


def test_insufficient_data_is_a_warning():
    message = sns_message("sns_cloudwatch_alarm")
    message["NewStateValue"] = "INSUFFICIENT_DATA"
    [a] = normalise(with_message("sns_cloudwatch_alarm", message), INDEX)
    assert a.status is AlertStatus.FIRING and a.severity is Severity.WARNING


def test_composite_alarm_via_sns_and_eventbridge_have_the_same_key():
    via_sns, via_eventbridge = one("sns_cloudwatch_composite_alarm"), one("eventbridge_cloudwatch_composite_alarm")
    assert via_sns.kind == via_eventbridge.kind == "composite_alarm"
    assert via_sns.key == via_eventbridge.key
    assert via_eventbridge.status is AlertStatus.RESOLVED
    assert 'ALARM("web-5xx-high")' in via_sns.labels["alarm_rule"]


def test_metric_alarm_via_eventbridge():
    a = one("eventbridge_cloudwatch_alarm")
    assert (a.kind, a.status, a.severity, a.environment) == ("metric_alarm", AlertStatus.FIRING, Severity.HIGH, "prod")
    assert a.resource == "app/api-prod/0a1b2c3d4e5f6a7b" and a.labels["metric"] == "TargetResponseTime"
    assert a.event_id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"


def test_an_eventbridge_event_forwarded_through_sns_is_unwrapped():
    envelope = with_message("sns_cloudwatch_alarm", sample("eventbridge_cloudwatch_alarm"))
    assert normalise(envelope, INDEX) == [one("eventbridge_cloudwatch_alarm")]


def test_a_bare_alarm_message_from_raw_delivery():
    [a] = normalise(sns_message("sns_cloudwatch_alarm"), INDEX, event_id="sqs-1")
    assert a.key == one("sns_cloudwatch_alarm").key and a.event_id == "sqs-1"


def test_codepipeline_execution_failed():
    e = one("eventbridge_codepipeline_execution_failed")
    assert isinstance(e, DeploymentEvent)
    assert (e.source, e.kind, e.result, e.environment) == ("codepipeline", "pipeline_execution",
                                                           DeploymentResult.FAILED, "prod")
    assert e.failed and e.result.finished
    assert e.started_by == "arn:aws:sts::222222222222:assumed-role/Deployer/alice"
    assert e.duration_s == pytest.approx(1133.886)
    assert e.links[0].url.startswith("https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
                                     "web-release/executions/01234567-0123-0123-0123-012345678901")


def test_codepipeline_stage_and_action_are_distinct_keys_of_the_execution():
    execution, stage, action = (one("eventbridge_codepipeline_execution_failed"), one("eventbridge_codepipeline_stage"),
                                one("eventbridge_codepipeline_action"))
    assert stage.key.startswith(execution.key) and action.key.startswith(execution.key)
    assert len({execution.key, stage.key, action.key}) == 3
    assert stage.kind == "pipeline_stage" and stage.result is DeploymentResult.STARTED
    assert action.kind == "pipeline_action" and action.revision == "9f2c1e7d4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e"
    assert action.summary == "Merge pull request #412 from acme/fix-timeouts"
    assert [link.label for link in action.links] == ["Execution", "Details"]


def test_codedeploy_deployment():
    e = one("eventbridge_codedeploy_deployment")
    assert (e.kind, e.result, e.resource, e.environment) == ("deployment", DeploymentResult.FAILED, "web/web-prod", "prod")
    assert e.links[0].url == ("https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-7F3KQ2XYZ"
                              "?region=eu-west-1")


def test_ecs_deployment():
    e = one("eventbridge_ecs_deployment")
    assert (e.source, e.kind, e.result, e.resource) == ("ecs", "service_deployment", DeploymentResult.FAILED,
                                                       "prod-cluster/web")
    assert "circuit breaker" in e.summary


def test_ecs_service_action_fires_and_steady_state_resolves_the_same_alert():
    impaired = one("eventbridge_ecs_service_action")
    assert (impaired.status, impaired.severity) == (AlertStatus.FIRING, Severity.WARNING)
    steady = sample("eventbridge_ecs_service_action")
    steady["detail"].update(eventType="INFO", eventName="SERVICE_STEADY_STATE")
    [ok] = normalise(steady, INDEX)
    assert ok.key == impaired.key and ok.status is AlertStatus.RESOLVED


def test_health_event_takes_the_environment_from_a_resource_tag():
    a = one("eventbridge_health")
    assert (a.source, a.kind, a.status, a.severity) == ("health", "issue", AlertStatus.FIRING, Severity.HIGH)
    assert a.environment == "staging"  # dev and staging share the account: the tag decides
    assert a.resource == "i-0abcdef1234567890"
    assert a.occurred_at == datetime(2026, 3, 2, 8, 55, tzinfo=timezone.utc)  # RFC 1123 time
    assert a.console_url.startswith("https://health.aws.amazon.com/health/home#/account/event-log?eventID=")


def test_closed_health_issue_resolves_and_scheduled_changes_are_notices():
    closed = sample("eventbridge_health")
    closed["detail"]["statusCode"] = "closed"
    assert normalise(closed, INDEX)[0].status is AlertStatus.RESOLVED
    scheduled = sample("eventbridge_health")
    scheduled["detail"]["eventTypeCategory"] = "scheduledChange"
    assert normalise(scheduled, INDEX)[0].status is AlertStatus.INFO


def test_guardduty_finding():
    a = one("eventbridge_guardduty")
    assert (a.source, a.severity, a.status, a.environment) == ("guardduty", Severity.HIGH, AlertStatus.FIRING, "prod")
    assert a.resource == "i-99999999" and a.labels["count"] == "14" and a.labels["Name"] == "bastion"
    assert "fId=16afba5c5c43e07c9e3e5e2e544e95df" in a.console_url


@pytest.mark.parametrize("score, severity", [(9.5, Severity.CRITICAL), (7, Severity.HIGH), (5, Severity.WARNING),
                                             (2, Severity.INFO)])
def test_guardduty_severity_bands(score, severity):
    event = sample("eventbridge_guardduty")
    event["detail"]["severity"] = score
    assert normalise(event, INDEX)[0].severity is severity


def test_archived_guardduty_finding_resolves():
    event = sample("eventbridge_guardduty")
    event["detail"]["service"]["archived"] = True
    assert normalise(event, INDEX)[0].status is AlertStatus.RESOLVED


def test_security_hub_findings_one_alert_each():
    event = sample("eventbridge_securityhub")
    second = dict(event["detail"]["findings"][0], Id="finding-2", Compliance={"Status": "PASSED"},
                  Severity={"Label": "CRITICAL"})
    event["detail"]["findings"].append(second)
    first, other = normalise(event, INDEX)
    assert (first.severity, first.status, first.environment) == (Severity.HIGH, AlertStatus.FIRING, "prod")
    assert first.resource == "arn:aws:s3:::acme-prod-assets"
    assert (other.key, other.severity, other.status) == ("securityhub:finding-2", Severity.CRITICAL,
                                                         AlertStatus.RESOLVED)


def test_budgets_text_notification():
    a = one("sns_budgets_text")
    assert (a.source, a.status, a.severity) == ("budgets", AlertStatus.INFO, Severity.HIGH)
    assert (a.key, a.environment) == ("budget:222222222222:prod-monthly:ACTUAL", "prod")
    assert a.summary == "actual $8,213.57, threshold > $8,000.00"


def test_budgets_json_notification_in_a_shared_account_has_no_environment():
    a = one("sns_budgets_json")
    assert (a.key, a.severity, a.environment) == ("budget:111111111111:dev-monthly:FORECASTED", Severity.WARNING, None)


def test_cost_anomaly():
    a = one("sns_cost_anomaly")
    assert (a.source, a.status, a.environment) == ("cost_anomaly", AlertStatus.INFO, "prod")
    assert a.title == "Cost anomaly: $1,001.00 unexpected spend in Amazon Elastic Compute Cloud - Compute"
    assert a.console_url.endswith("/anomalies/12345678-abcd-ef12-3456-987654321a12")


def test_an_unknown_eventbridge_event_becomes_a_generic_event_with_a_reason():
    g = one("eventbridge_unknown_s3")
    assert isinstance(g, GenericEvent)
    assert (g.source, g.detail_type, g.environment) == ("aws.s3", "Object Created", "prod")
    assert g.reason == "no normaliser for aws.s3 / Object Created"
    assert g.raw["detail"]["bucket"]["name"] == "acme-prod-assets"


@pytest.mark.parametrize("raw, reason", [
    ({"hello": "world"}, "neither an SNS notification nor an EventBridge event"),
    ({"Type": "Notification", "MessageId": "m", "Timestamp": "2026-03-02T09:00:00Z", "Message": "plain words"},
     "an SNS text message no normaliser understands"),
    ({"Type": "Notification", "MessageId": "m", "Timestamp": "2026-03-02T09:00:00Z", "Message": '{"a": 1}'},
     "an SNS JSON message no normaliser understands"),
])
def test_other_unknown_shapes_are_generic_never_dropped(raw, reason):
    [g] = normalise(raw, INDEX)
    assert isinstance(g, GenericEvent) and g.reason == reason
