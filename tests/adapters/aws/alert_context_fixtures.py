"""Shared by the alert context tests: an alarm with metric data and a log group in the sandbox's
prod account, the alert the normaliser makes of it, and a test clock 40 minutes after its change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opsgate.core.notifications.environments import EnvironmentIndex
from opsgate.core.notifications.normalise import normalise
from opsgate.domain.alerts import Alert
from opsgate.testing import FakeClock
from tests.adapters.aws.sandbox_fixtures import PROD, prod_clients, run_ctx, sandbox_endpoint  # noqa: F401

CHANGE = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=40)
ALARM = "web-5xx-high"
GROUP = "/app/web"
ERRORS = "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc"
DIMENSIONS = [{"Name": "LoadBalancer", "Value": "app/web-prod/50dc6c"}]


def alarm_alert(name: str = ALARM, *, account: str = PROD.account, composite: bool = False) -> Alert:
    """The alert opsgate's normaliser makes of the alarm's SNS message."""
    message = {"AlarmName": name, "AWSAccountId": account, "NewStateValue": "ALARM", "OldStateValue": "OK",
               "NewStateReason": "Threshold Crossed", "StateChangeTime": CHANGE.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
               "Region": "EU (Ireland)", "AlarmArn": f"arn:aws:cloudwatch:{PROD.region}:{account}:alarm:{name}"}
    if composite:
        message["AlarmRule"] = f'ALARM("{name}-a") OR ALARM("{name}-b")'
    else:
        message["Trigger"] = {"MetricName": "HTTPCode_Target_5XX_Count", "Namespace": "AWS/ApplicationELB",
                              "Dimensions": [{"name": "LoadBalancer", "value": "app/web-prod/50dc6c"}]}
    [alert] = normalise(message, EnvironmentIndex([PROD]), event_id="m-1")
    assert isinstance(alert, Alert)
    return alert


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(CHANGE + timedelta(minutes=40))


@pytest.fixture
def cloudwatch(prod_clients):
    """5xx counts: 3 a minute until the change, 60 a minute after it; the alarm fires above 25."""
    client = prod_clients.client("cloudwatch")
    data = [{"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": DIMENSIONS, "Value": 60.0 if m >= 0 else 3.0,
             "Timestamp": CHANGE + timedelta(minutes=m)} for m in range(-170, 31, 5)]
    client.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)
    client.put_metric_alarm(AlarmName=ALARM, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
                            Dimensions=DIMENSIONS, Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=25.0,
                            ComparisonOperator="GreaterThanThreshold")
    return client


@pytest.fixture
def logs(prod_clients):
    client = prod_clients.client("logs")
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName="web-1")
    start_ms = int(CHANGE.timestamp() * 1000)
    events = [(-20, "INFO request ok"), (-9, "ERROR upstream timed out"), (-6, "INFO request ok"),
              (-4, "ERROR db login failed password=hunter2"), (-2, "ERROR upstream timed out\nretrying"),
              (-1, "ERROR 502 from payments")]
    client.put_log_events(logGroupName=GROUP, logStreamName="web-1", logEvents=[
        {"timestamp": start_ms + minutes * 60_000, "message": text} for minutes, text in events])
    return client
