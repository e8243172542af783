"""Label matchers (silences and routes) and routing: first match wins, `continue` fans out, the
default channel takes what nothing matched."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opsgate.domain.alerts import DeploymentEvent, DeploymentResult, Severity
from opsgate.domain.matchers import parse_matcher
from opsgate.domain.notification_rules import DEFAULT_ROUTE, NotificationRules, Route
from tests.core.notifications.alert_samples import T0, alert


def matches(text: str, item) -> bool:
    return parse_matcher(text).matches(item)


@pytest.mark.parametrize("text, expected", [
    ("environment=prod", True),
    ("environment=PROD", True),  # values compare case-insensitively
    ("environment=staging", False),
    ("environment!=staging", True),
    ("alarm=api-*", True),  # `alarm` is the CloudWatch alarm's name
    ("alarm=web-*", False),
    ("alarm!=api-*", False),
    ("alarm=api-5xx-???h", True),
    ("severity>=high", True),
    ("severity>=critical", False),
    ("team=", True),  # an absent label is ""
    ("team!=payments", True),
    ("dimension:LoadBalancer=app/*", True),
])
def test_a_matcher_compares_one_label(text, expected):
    item = alert("api-5xx-high", severity=Severity.HIGH, alarm_name="api-5xx-high",
                 **{"dimension:LoadBalancer": "app/api/1"})
    assert matches(text, item) is expected


@pytest.mark.parametrize("text, problem", [
    ("prod", "is not a matcher"),
    ("=prod", "is not a label name"),
    ("severity>=", "severity must be one of"),
    ("alarm>=high", "compares severities only"),
    ("severity>=urgent", "severity must be one of critical, high, warning, info"),
    ("x" * 200 + "=1", "is not a label name"),
    ("alarm=" + "a" * 300, "at most 256 characters"),
])
def test_a_malformed_matcher_is_refused_saying_what_is_accepted(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_matcher(text)


def test_matchers_read_deployment_events_too():
    failed = DeploymentEvent(key="k", source="codepipeline", kind="pipeline_execution", result=DeploymentResult.FAILED,
                             title="web-release failed", summary="", occurred_at=T0, event_id="e", environment="prod",
                             resource="web-release", labels={"pipeline": "web-release"})
    assert matches("severity>=high", failed) and matches("status=failed", failed) and matches("pipeline=web-*", failed)
    assert not matches("severity>=high", replace(failed, result=DeploymentResult.SUCCEEDED))


RULES = NotificationRules(
    default_channel="C0ALERTS",
    routes=(
        Route("security", (parse_matcher("source=guardduty"),), ("C0SEC",)),
        Route("pages", (parse_matcher("severity>=critical"),), ("C0ONCALL",), continue_=True),
        Route("prod", (parse_matcher("environment=prod"),), ("C0PROD", "C0ONCALL")),
        Route("never", (), ("C0NEVER",)),
    ),
)


def test_the_first_matching_route_wins():
    assert RULES.route(alert("finding", source="guardduty", severity=Severity.CRITICAL), "console") == [
        ("security", "C0SEC")]


def test_continue_lets_later_routes_match_too_and_a_channel_gets_one_copy():
    assert RULES.route(alert("a", severity=Severity.CRITICAL), "console") == [
        ("pages", "C0ONCALL"), ("prod", "C0PROD")]


def test_a_continue_route_alone_sends_a_copy_and_the_default_channel_still_gets_it():
    rules = NotificationRules(default_channel="C0ALERTS", routes=(
        Route("pages", (parse_matcher("severity>=critical"),), ("C0ONCALL",), continue_=True),))
    assert rules.route(alert("a", severity=Severity.CRITICAL), "console") == [
        ("pages", "C0ONCALL"), (DEFAULT_ROUTE, "C0ALERTS")]
    assert rules.route(alert("a"), "console") == [(DEFAULT_ROUTE, "C0ALERTS")]


def test_a_route_without_matchers_takes_everything_left():
    assert RULES.route(alert("a", environment="dev"), "console") == [("never", "C0NEVER")]


def test_nothing_matched_goes_to_the_default_channel_then_the_process_default():
    rules = NotificationRules(routes=(Route("sec", (parse_matcher("source=guardduty"),), ("C0SEC",)),))
    assert rules.route(alert("a"), "console") == [(DEFAULT_ROUTE, "console")]
    assert NotificationRules(default_channel="C0X").route(alert("a"), "console") == [(DEFAULT_ROUTE, "C0X")]
