"""CloudWatch in the sandbox: DescribeAlarmHistory over PutMetricAlarm and SetAlarmState changes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest


@pytest.fixture
def cloudwatch(prod_clients):
    client = prod_clients.client("cloudwatch")
    for name in ("web-5xx-high", "api-latency-p99"):
        client.put_metric_alarm(AlarmName=name, Namespace="acme", MetricName=name, Statistic="Average", Period=60,
                                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    return client


def history(cloudwatch, **filters) -> list[dict]:
    return cloudwatch.describe_alarm_history(**filters)["AlarmHistoryItems"]


def set_state(cloudwatch, name: str, state: str) -> None:
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"testing {state}")


def test_state_changes_are_recorded_newest_first_with_old_and_new_state(cloudwatch):
    set_state(cloudwatch, "web-5xx-high", "ALARM")
    set_state(cloudwatch, "web-5xx-high", "OK")
    items = history(cloudwatch, AlarmName="web-5xx-high", HistoryItemType="StateUpdate")
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM", "Alarm updated from INSUFFICIENT_DATA to OK"]
    data = json.loads(items[1]["HistoryData"])
    assert data["oldState"]["stateValue"] == "OK"
    assert data["newState"] == {"stateValue": "ALARM", "stateReason": "testing ALARM"}


def test_setting_the_state_an_alarm_already_has_records_nothing(cloudwatch):
    set_state(cloudwatch, "web-5xx-high", "OK")
    assert len(history(cloudwatch, AlarmName="web-5xx-high", HistoryItemType="StateUpdate")) == 1


def test_put_metric_alarm_records_creation_and_update(cloudwatch):
    cloudwatch.put_metric_alarm(AlarmName="web-5xx-high", Namespace="acme", MetricName="x", Statistic="Average",
                                Period=60, EvaluationPeriods=2, Threshold=5.0, ComparisonOperator="GreaterThanThreshold")
    items = history(cloudwatch, AlarmName="web-5xx-high", HistoryItemType="ConfigurationUpdate")
    assert [i["HistorySummary"] for i in items] == ['Alarm "web-5xx-high" updated', 'Alarm "web-5xx-high" created']


def test_history_filters_by_alarm_name(cloudwatch):
    set_state(cloudwatch, "api-latency-p99", "ALARM")
    assert {i["AlarmName"] for i in history(cloudwatch)} == {"web-5xx-high", "api-latency-p99"}
    assert {i["AlarmName"] for i in history(cloudwatch, AlarmName="api-latency-p99")} == {"api-latency-p99"}


def test_history_scans_oldest_first_when_asked(cloudwatch):
    set_state(cloudwatch, "web-5xx-high", "ALARM")
    items = history(cloudwatch, AlarmName="web-5xx-high", ScanBy="TimestampAscending")
    assert items[0]["HistoryItemType"] == "ConfigurationUpdate"
    assert items[-1]["HistorySummary"] == "Alarm updated from OK to ALARM"


def test_history_filters_by_time(cloudwatch):
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert history(cloudwatch, StartDate=later) == []
    assert len(history(cloudwatch, EndDate=later)) == 4


def test_history_pages_with_next_token(cloudwatch):
    first = cloudwatch.describe_alarm_history(MaxRecords=3)
    rest = cloudwatch.describe_alarm_history(MaxRecords=3, NextToken=first["NextToken"])
    assert len(first["AlarmHistoryItems"]) == 3
    assert len(rest["AlarmHistoryItems"]) == 1 and "NextToken" not in rest
    paginated = [i for page in cloudwatch.get_paginator("describe_alarm_history").paginate(
        PaginationConfig={"PageSize": 1}) for i in page["AlarmHistoryItems"]]
    assert paginated == history(cloudwatch)


def test_a_composite_alarm_is_stored_described_and_its_history_typed(cloudwatch):
    cloudwatch.put_composite_alarm(AlarmName="web-down", AlarmRule='ALARM("web-5xx-high")')
    found = cloudwatch.describe_alarms(AlarmNames=["web-down"], AlarmTypes=["CompositeAlarm"])
    [alarm] = found["CompositeAlarms"]
    assert (alarm["AlarmName"], alarm["AlarmRule"]) == ("web-down", 'ALARM("web-5xx-high")')
    assert found["MetricAlarms"] == []
    [created] = history(cloudwatch, AlarmName="web-down", HistoryItemType="ConfigurationUpdate")
    assert created["AlarmType"] == "CompositeAlarm"
