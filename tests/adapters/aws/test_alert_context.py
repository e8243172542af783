"""The chart and log lines of an alarm alert, fetched from the AWS emulator over HTTP with real
boto3, as the environment's role: a real PNG, the latest matching lines, problems instead of
exceptions, and a time budget that holds when a query never finishes."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import unquote

import pytest

from opsgate.adapters.aws.alert_context import AwsAlertContext, logs_insights_url
from opsgate.adapters.aws.iam_policy import CallRecorder
from opsgate.adapters.aws.session import SessionFactory
from opsgate.clock import SystemClock
from opsgate.domain.alert_context import LogQuery
from opsgate.domain.alerts import Alert
from opsgate.ports import AlertAttachments
from opsgate.sandbox.moto_extensions import hold_queries
from opsgate.sandbox.moto_extensions.chart_png import MOMENT, SERIES, THRESHOLD
from opsgate.testing import FakeClock
from tests.adapters.aws.alert_context_fixtures import (  # noqa: F401  (fixtures)
    ALARM,
    CHANGE,
    DIMENSIONS,
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
from tests.adapters.aws.sandbox_fixtures import PROD
from tests.sandbox.png_reader import read_png


@pytest.fixture
def sessions(sandbox_endpoint) -> SessionFactory:
    return SessionFactory(endpoint_url=sandbox_endpoint, max_attempts=2, read_timeout_s=5)


def context(sessions, clock, **options) -> AwsAlertContext:
    options.setdefault("sleep", lambda seconds: clock.advance(seconds))
    return AwsAlertContext(sessions, [PROD], clock, **options)


# -- the chart --------------------------------------------------------------------------------------

def test_a_metric_alarm_gets_a_png_of_its_metric_with_the_threshold_and_the_change(cloudwatch, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), None)
    assert found.problems == ()
    assert found.chart_png is not None and found.chart_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert found.chart_title.startswith(f"{ALARM}: AWS/ApplicationELB HTTPCode_Target_5XX_Count (Sum, 300 s)")
    picture = read_png(found.chart_png)
    assert (picture.width, picture.height) == (800, 400)
    [threshold_y] = {y for _, y in picture.where(THRESHOLD)}
    [change_x] = {x for x, _ in picture.where(MOMENT)}
    line = picture.where(SERIES[0])
    assert max(y for x, y in line if x < change_x - 2) > threshold_y  # below the threshold before
    assert min(y for x, y in line if x > change_x + 20) < threshold_y  # above it after
    assert found.log_lines == () and found.log_query_url == ""


def test_the_widget_covers_three_hours_before_to_thirty_minutes_after(cloudwatch, hooked_sessions, sandbox_endpoint,
                                                                      clock):
    recorder = CallRecorder()
    context(hooked_sessions(recorder.attach), clock).attachments(alarm_alert(), None)
    [call] = [c for c in recorder.calls if c.operation == "GetMetricWidgetImage"]
    widget = json.loads(call.params["MetricWidget"])
    assert widget["start"] == (CHANGE - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert widget["end"] == (CHANGE + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert widget["metrics"] == [["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer",
                                  "app/web-prod/50dc6c", {"stat": "Sum", "period": 300}]]
    assert widget["annotations"]["horizontal"][0] | {"color": None} == {
        "label": "threshold > 25", "value": 25.0, "color": None}
    assert widget["annotations"]["vertical"][0]["value"] == CHANGE.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_change_moments_ago_is_charted_up_to_now(cloudwatch, sessions):
    just_now = FakeClock(CHANGE + timedelta(minutes=5))
    found = context(sessions, just_now).attachments(alarm_alert(), None)
    assert found.chart_title.endswith(f"{CHANGE - timedelta(hours=3):%Y-%m-%d %H:%M}–"
                                      f"{CHANGE + timedelta(minutes=5):%H:%M} UTC, state change at {CHANGE:%H:%M}")


def test_a_metric_math_alarm_is_charted_from_its_metrics(prod_clients, cloudwatch, sessions, clock):
    prod_clients.client("cloudwatch").put_metric_alarm(
        AlarmName="web-error-rate", EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
        Metrics=[{"Id": "errors", "ReturnData": False, "MetricStat": {"Metric": {
                      "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
                      "Dimensions": DIMENSIONS}, "Period": 300, "Stat": "Sum"}},
                 {"Id": "rate", "Expression": "errors / 10", "Label": "errors per 10", "ReturnData": True}])
    found = context(sessions, clock).attachments(alarm_alert("web-error-rate"), None)
    assert found.problems == ()
    assert found.chart_title.startswith("web-error-rate: metric math")
    assert read_png(found.chart_png).where(SERIES[0])  # the metric the expression reads is drawn


def test_a_composite_alarm_gets_no_chart_and_the_message_says_why(prod_clients, cloudwatch, sessions, clock):
    prod_clients.client("cloudwatch").put_composite_alarm(AlarmName="web-down", AlarmRule=f'ALARM("{ALARM}")')
    found = context(sessions, clock).attachments(alarm_alert("web-down", composite=True), None)
    assert found.chart_png is None
    assert found.problems == ("Chart: web-down is a composite alarm: it has no metric of its own to chart "
                              "(the messages of its alarms carry theirs).",)


def test_an_alarm_deleted_since_is_a_problem_not_an_exception(sandbox_endpoint, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert("gone"), None)
    assert found.chart_png is None
    assert found.problems == (f"Chart: alarm gone was not found in account {PROD.account}, {PROD.region}.",)


# -- the log lines ----------------------------------------------------------------------------------

def test_the_latest_matching_lines_newest_first_with_secrets_masked(cloudwatch, logs, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), LogQuery(GROUP, ERRORS, window_s=600, limit=3))
    assert found.problems == ()
    stamp = lambda minutes: (CHANGE + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.000")  # noqa: E731
    assert found.log_lines == (f"{stamp(-1)} ERROR 502 from payments",
                               f"{stamp(-2)} ERROR upstream timed out retrying",
                               f"{stamp(-4)} ERROR db login failed password=***")
    assert found.chart_png is not None  # both parts, one call


def test_the_window_reaches_back_window_s_before_the_change(cloudwatch, logs, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), LogQuery(GROUP, ERRORS, window_s=300, limit=10))
    assert len(found.log_lines) == 3  # the error 9 minutes before the change is outside five minutes


def test_the_console_link_opens_the_query_on_its_log_group_and_window(cloudwatch, logs, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), LogQuery(GROUP, ERRORS, window_s=600))
    assert found.log_query_url == logs_insights_url(PROD.region, GROUP, ERRORS, CHANGE - timedelta(minutes=10),
                                                    CHANGE + timedelta(minutes=30))
    assert found.log_query_url.startswith(f"https://{PROD.region}.console.aws.amazon.com/cloudwatch/home?region="
                                          f"{PROD.region}#logsV2:logs-insights$3FqueryDetail$3D")
    decoded = unquote(found.log_query_url.split("$3D", 1)[1].replace("$", "%").replace("*", "%"))
    assert f"~editorString~'{ERRORS}~source~(~'{GROUP}))" in decoded


def test_a_missing_log_group_is_a_problem_and_the_chart_still_comes(cloudwatch, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), LogQuery("/app/none", ERRORS))
    assert found.chart_png is not None
    assert found.log_lines == ()
    [problem] = found.problems
    assert problem.startswith("Log lines: log group /app/none was not found (logs:StartQuery)")


def test_a_query_the_service_refuses_is_a_problem(cloudwatch, logs, sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(), LogQuery(GROUP, "stats count() by bin(1m)"))
    [problem] = found.problems
    assert problem.startswith("Log lines: AWS refused logs:StartQuery on log group /app/web: MalformedQueryException")


def test_a_slow_query_is_stopped_when_the_budget_runs_out(cloudwatch, logs, hooked_sessions, clock):
    hold_queries(10_000, account_id=PROD.account, region=PROD.region)
    recorder = CallRecorder()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    started = time.monotonic()
    found = AwsAlertContext(hooked_sessions(recorder.attach), [PROD], clock, time_budget_s=10, poll_s=0.5,
                            sleep=sleep).attachments(alarm_alert(), LogQuery(GROUP, ERRORS))
    assert time.monotonic() - started < 10  # real time: the fake clock ran out, nothing waited for it
    assert sum(slept) == pytest.approx(10.0) and max(slept) <= 0.5
    assert found.problems == ("Log lines: the log query did not finish within 10 s; it was stopped "
                              "(open it in the console).",)
    assert found.chart_png is not None and found.log_query_url
    operations = [c.operation for c in recorder.calls if c.service == "logs"]
    assert operations[0] == "StartQuery" and operations[-1] == "StopQuery"
    assert operations.count("GetQueryResults") == 21  # at 0, 0.5, ..., 10 s


def test_the_budget_holds_on_the_real_clock_too(cloudwatch, logs, sessions):
    hold_queries(1_000_000, account_id=PROD.account, region=PROD.region)
    started = time.monotonic()
    found = AwsAlertContext(sessions, [PROD], SystemClock(), time_budget_s=0.5, poll_s=0.1).attachments(
        alarm_alert(), LogQuery(GROUP, ERRORS))
    assert time.monotonic() - started < 5
    # Stopped while polling, or (on a busy machine, when the chart took the budget) never started.
    [problem] = found.problems
    assert problem in ("Log lines: the log query did not finish within 0.5 s; it was stopped (open it in the console).",
                       "Log lines: no time was left for the log query (the budget is 0.5 s).")


def test_access_denied_says_which_permission_to_grant(cloudwatch, logs, hooked_sessions, canned_answer, clock):
    denied = canned_answer("before-send.*.StartQuery", 400,
                           {"__type": "AccessDeniedException", "message": "not authorized to perform logs:StartQuery"})
    found = context(hooked_sessions(denied), clock).attachments(alarm_alert(), LogQuery(GROUP, ERRORS))
    [problem] = found.problems
    assert problem.startswith(f"Log lines: AWS denied logs:StartQuery on log group {GROUP} to role "
                              f"{PROD.role_arn}")
    assert problem.endswith("Grant it in the environment role's policy (`opsgate iam-policy`).")


def test_an_unexpected_answer_is_a_short_problem_never_a_traceback(cloudwatch, logs, hooked_sessions, canned_answer,
                                                                   clock):
    odd = canned_answer("before-send.*.StartQuery", 200, {"unexpected": True})  # no queryId
    found = context(hooked_sessions(odd), clock).attachments(alarm_alert(), LogQuery(GROUP, ERRORS))
    assert found.problems == ("Log lines: could not be fetched (an unexpected answer from AWS; see opsgate's log).",)


# -- which alerts, which account ---------------------------------------------------------------------

def test_alerts_that_are_not_alarms_get_nothing(sessions, clock):
    finding = Alert(key="gd:1", source="guardduty", kind="finding", severity=alarm_alert().severity,
                    status=alarm_alert().status, title="Recon", summary="", occurred_at=CHANGE, event_id="e",
                    account=PROD.account, region=PROD.region)
    assert context(sessions, clock).attachments(finding, LogQuery(GROUP, ERRORS)) == AlertAttachments()


def test_an_account_outside_the_catalog_is_a_problem(sessions, clock):
    found = context(sessions, clock).attachments(alarm_alert(account="999999999999"), None)
    assert found.problems == ("No chart or log lines: account 999999999999 in eu-west-1 belongs to no environment "
                              "in the catalog.",)


def test_calls_are_made_as_the_environment_role_named_for_alert_context(cloudwatch, hooked_sessions, clock):
    recorder = CallRecorder()
    context(hooked_sessions(recorder.attach), clock).attachments(alarm_alert(), None)
    [assume] = [c for c in recorder.calls if c.service == "sts"]
    assert assume.params["RoleArn"] == PROD.role_arn
    assert assume.params["RoleSessionName"] == "opsgate-alert-context"
    assert assume.params["SourceIdentity"] == "opsgate"
