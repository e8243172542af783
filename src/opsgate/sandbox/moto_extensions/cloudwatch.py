"""CloudWatch: DescribeAlarmHistory over the changes made through PutMetricAlarm and SetAlarmState,
and PutCompositeAlarm.

moto changes alarms but keeps no history a caller can read. Here PutMetricAlarm records a
ConfigurationUpdate ("created"/"updated") and every change of state value, through either call,
records a StateUpdate with AWS's HistoryData JSON (old and new state). DescribeAlarmHistory filters
by alarm name, type, item type and time, newest first unless ScanBy says otherwise, with paging.
PutCompositeAlarm goes through the same path (moto keeps composite alarms as alarms with a rule
but does not route the action), and their history items say CompositeAlarm.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult

from opsgate.sandbox.moto_extensions._common import aws_error, now, serialized

DEFAULT_MAX_RECORDS = 100


class AlarmHistoryBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.items: list[dict[str, Any]] = []  # oldest first


alarm_history_backends = BackendDict(AlarmHistoryBackend, "cloudwatch")

_moto_put_metric_alarm = CloudWatchResponse.put_metric_alarm
_moto_set_alarm_state = CloudWatchResponse.set_alarm_state


def _state(response: CloudWatchResponse, name: str) -> dict[str, str] | None:
    alarm = cloudwatch_backends[response.current_account][response.region].alarms.get(name)
    return None if alarm is None else {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}


def _record(response: CloudWatchResponse, name: str, kind: str, summary: str, data: dict[str, Any]) -> None:
    alarm = cloudwatch_backends[response.current_account][response.region].alarms.get(name)
    alarm_type = "CompositeAlarm" if alarm is not None and alarm.rule is not None else "MetricAlarm"
    alarm_history_backends[response.current_account][response.region].items.append({
        "AlarmName": name, "AlarmType": alarm_type, "Timestamp": now(), "HistoryItemType": kind,
        "HistorySummary": summary, "HistoryData": json.dumps({"version": "1.0", **data}),
    })


def _record_state_change(response: CloudWatchResponse, name: str, before: dict[str, str] | None) -> None:
    after = _state(response, name)
    if after is None or (before or {}).get("stateValue") == after["stateValue"]:
        return
    old = before["stateValue"] if before else "INSUFFICIENT_DATA"
    _record(response, name, "StateUpdate", f"Alarm updated from {old} to {after['stateValue']}",
            {"oldState": before or {"stateValue": old}, "newState": after})


@serialized
def put_metric_alarm(self: CloudWatchResponse) -> Any:
    name = self._get_param("AlarmName")
    before = _state(self, name)
    result = _moto_put_metric_alarm(self)
    _record(self, name, "ConfigurationUpdate", f'Alarm "{name}" {"updated" if before else "created"}',
            {"type": "Update" if before else "Create"})
    _record_state_change(self, name, before)
    return result


@serialized
def set_alarm_state(self: CloudWatchResponse) -> Any:
    name = self._get_param("AlarmName")
    before = _state(self, name)
    result = _moto_set_alarm_state(self)
    _record_state_change(self, name, before)
    return result


@serialized
def put_composite_alarm(self: CloudWatchResponse) -> Any:
    """moto stores composite alarms (an AlarmRule instead of a metric) through its PutMetricAlarm
    code but does not route PutCompositeAlarm to it."""
    return put_metric_alarm(self)


def _time(value: Any) -> datetime | None:
    """A request timestamp as an aware datetime (the protocols hand over datetimes, numbers or text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return _time(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    name, kind = self._get_param("AlarmName"), self._get_param("HistoryItemType")
    types = self._get_param("AlarmTypes") or []
    start, end = _time(self._get_param("StartDate")), _time(self._get_param("EndDate"))
    items = [item for item in alarm_history_backends[self.current_account][self.region].items
             if (not name or item["AlarmName"] == name) and (not kind or item["HistoryItemType"] == kind)
             and (not types or item["AlarmType"] in types)
             and (start is None or item["Timestamp"] >= start) and (end is None or item["Timestamp"] <= end)]
    if self._get_param("ScanBy", "TimestampDescending") == "TimestampDescending":
        items.reverse()
    offset, size = _page_start(self._get_param("NextToken")), int(self._get_param("MaxRecords") or DEFAULT_MAX_RECORDS)
    page: dict[str, Any] = {"AlarmHistoryItems": items[offset: offset + size]}
    if offset + size < len(items):
        page["NextToken"] = str(offset + size)
    return ActionResult(page)


def _page_start(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise aws_error("InvalidNextToken", "The NextToken is not valid")
    return int(token)


EXTENSIONS = {
    CloudWatchResponse: {
        "put_metric_alarm": put_metric_alarm,
        "set_alarm_state": set_alarm_state,
        "put_composite_alarm": put_composite_alarm,
        "describe_alarm_history": describe_alarm_history,
    },
}
