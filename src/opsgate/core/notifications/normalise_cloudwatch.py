"""CloudWatch alarm state changes (metric and composite), via SNS and via EventBridge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsgate.core.notifications import console_links, fields
from opsgate.core.notifications.envelope import Context, EventBridgeEvent
from opsgate.core.notifications.regions import (
    account_from_arn,
    region_code,
    region_from_arn,
)
from opsgate.domain.alerts import Alert, AlertStatus, Severity

_STATES = {"ALARM": AlertStatus.FIRING, "OK": AlertStatus.RESOLVED, "INSUFFICIENT_DATA": AlertStatus.FIRING}
# Alarms carry no severity; teams write one into the description: "severity=critical" or "[critical]".
_SEVERITY_IN_DESCRIPTION = re.compile(r"(?:severity\s*[=:]\s*|\[)(critical|high|warning|info)\]?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _AlarmChange:
    """The fields both delivery paths share, once read."""

    name: str
    arn: str
    account: str
    region: str | None
    state: str
    previous: str
    reason: str
    description: str
    occurred_at: datetime
    composite: bool
    resource: str
    labels: dict[str, str]


def from_sns_message(message: dict[str, Any], event_id: str, ctx: Context) -> list[Alert]:
    """An SNS alarm notification's `Message`, already parsed from JSON."""
    name = fields.text(message, "AlarmName", limit=255)
    arn = fields.optional_text(message, "AlarmArn", limit=1024)
    region = region_from_arn(arn) or region_code(fields.optional_text(message, "Region", limit=64))
    composite = "AlarmRule" in message
    trigger = fields.obj(message, "Trigger", required=False)
    resource, labels = (_composite_rule(fields.optional_text(message, "AlarmRule"), name) if composite
                        else _sns_metric(trigger))
    change = _AlarmChange(
        name=name, arn=arn, region=region,
        account=fields.optional_text(message, "AWSAccountId", limit=32) or account_from_arn(arn) or "",
        state=fields.text(message, "NewStateValue", limit=32),
        previous=fields.optional_text(message, "OldStateValue", limit=32),
        reason=fields.optional_text(message, "NewStateReason"),
        description=fields.optional_text(message, "AlarmDescription", limit=1024),
        occurred_at=fields.timestamp(message, "StateChangeTime"),  # type: ignore[arg-type]
        composite=composite, resource=resource, labels=labels,
    )
    return [_alert(change, event_id, ctx, state_field="NewStateValue")]


def from_eventbridge(event: EventBridgeEvent, ctx: Context) -> list[Alert]:
    """`CloudWatch Alarm State Change` events."""
    detail = event.detail
    state = fields.obj(detail, "state", "detail")
    previous = fields.obj(detail, "previousState", "detail", required=False)
    config = fields.obj(detail, "configuration", "detail", required=False)
    name = fields.text(detail, "alarmName", "detail", limit=255)
    composite = "alarmRule" in config
    resource, labels = (_composite_rule(fields.optional_text(config, "alarmRule"), name) if composite
                        else _eventbridge_metric(config))
    arn = event.resources[0] if event.resources else ""
    change = _AlarmChange(
        name=name, arn=arn, account=event.account, region=event.region or region_from_arn(arn),
        state=fields.text(state, "value", "detail.state", limit=32),
        previous=fields.optional_text(previous, "value", "detail.previousState", limit=32),
        reason=fields.optional_text(state, "reason", "detail.state"),
        description=fields.optional_text(config, "description", "detail.configuration", limit=1024),
        occurred_at=fields.timestamp(state, "timestamp", "detail.state", required=False) or event.time,
        composite=composite, resource=resource, labels=labels,
    )
    return [_alert(change, event.id, ctx, state_field="detail.state.value")]


def _alert(change: _AlarmChange, event_id: str, ctx: Context, *, state_field: str) -> Alert:
    status = _STATES.get(change.state)
    if status is None:
        raise fields.EventError(state_field, f"must be one of {', '.join(_STATES)}")
    severity = _declared_severity(change.description) or Severity.HIGH
    if change.state == "INSUFFICIENT_DATA":
        severity = Severity.WARNING  # missing data is worth a look, never a page
    labels = {"alarm_name": change.name, "state": change.state, **change.labels}
    if change.previous:
        labels["previous_state"] = change.previous
    return Alert(
        # The alarm ARN (or account+region+name) names the condition; state changes update it.
        key=f"cloudwatch:{change.arn or f'{change.account}:{change.region}:{change.name}'}",
        source="cloudwatch", kind="composite_alarm" if change.composite else "metric_alarm",
        severity=severity, status=status, title=change.name,
        summary=change.reason or change.description, occurred_at=change.occurred_at, event_id=event_id,
        environment=ctx.environment(change.account, change.region),
        account=change.account or None, region=change.region, resource=change.resource, labels=labels,
        console_url=console_links.cloudwatch_alarm(change.region, change.name),
    )


def _declared_severity(description: str) -> Severity | None:
    match = _SEVERITY_IN_DESCRIPTION.search(description)
    return Severity(match.group(1).lower()) if match else None


def _composite_rule(rule: str, name: str) -> tuple[str, dict[str, str]]:
    return name, {"alarm_rule": rule[:1000]} if rule else {}


def _sns_metric(trigger: dict[str, Any]) -> tuple[str, dict[str, str]]:
    namespace = fields.optional_text(trigger, "Namespace", "Trigger", limit=256)
    metric = fields.optional_text(trigger, "MetricName", "Trigger", limit=256)
    dims = {}
    for index, item in enumerate(fields.array(trigger, "Dimensions", "Trigger")):
        where = f"Trigger.Dimensions[{index}]"
        dims[fields.text(item, "name", where, limit=255)] = fields.optional_text(item, "value", where, limit=1024)
    return _metric_resource(namespace, metric, dims)


def _eventbridge_metric(config: dict[str, Any]) -> tuple[str, dict[str, str]]:
    # Metric alarms list one metric (metric math: several; the first returning data is shown).
    for index, item in enumerate(fields.array(config, "metrics", "detail.configuration")):
        where = f"detail.configuration.metrics[{index}]"
        stat = fields.obj(item, "metricStat", where, required=False)
        metric = fields.obj(stat, "metric", f"{where}.metricStat", required=False)
        if metric:
            where = f"{where}.metricStat.metric"
            dims = fields.string_map(metric, "dimensions", where)
            return _metric_resource(fields.optional_text(metric, "namespace", where, limit=256),
                                    fields.optional_text(metric, "name", where, limit=256), dims)
    return "", {}


def _metric_resource(namespace: str, metric: str, dims: dict[str, str]) -> tuple[str, dict[str, str]]:
    labels = {k: v for k, v in (("namespace", namespace), ("metric", metric)) if v}
    labels.update({f"dimension:{k}": v for k, v in dims.items()})
    # The first dimension value is what people call the resource (a load balancer, a function).
    resource = next(iter(dims.values()), "") or metric
    return resource, labels
