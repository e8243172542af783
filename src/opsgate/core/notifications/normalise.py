"""Raw AWS events in, `Alert` / `DeploymentEvent` / `GenericEvent` out. Pure: no I/O, no clock.

Accepted shapes:
- an SNS Notification envelope (`Type`, `MessageId`, `Message`, ...), as delivered over HTTP(S)
  or through SQS without raw delivery; its `Message` may be a CloudWatch alarm, a Cost Anomaly
  alert, a Budgets notice (text or JSON) or a whole EventBridge event (an SNS rule target);
- an EventBridge event (`detail-type`, `source`, `detail`, ...), as read from SQS;
- a bare CloudWatch alarm message (SNS raw message delivery to SQS).

Anything well-formed that no normaliser knows becomes a `GenericEvent` carrying the reason; input
that claims a known shape but breaks it raises `EventError` naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from opsgate.core.notifications import (
    normalise_cloudwatch,
    normalise_cost,
    normalise_deploys,
    normalise_health,
    normalise_security,
)
from opsgate.core.notifications.envelope import (
    Context,
    EventBridgeEvent,
    EventBridgeNormaliser,
    SnsNotice,
)
from opsgate.core.notifications.environments import EnvironmentIndex
from opsgate.core.notifications.fields import EventError, parse_time
from opsgate.domain.alerts import GenericEvent, Notification

EVENTBRIDGE_NORMALISERS: dict[tuple[str, str], EventBridgeNormaliser] = {
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): normalise_cloudwatch.from_eventbridge,
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): normalise_deploys.codepipeline,
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"): normalise_deploys.codepipeline,
    ("aws.codepipeline", "CodePipeline Action Execution State Change"): normalise_deploys.codepipeline,
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"): normalise_deploys.codedeploy,
    ("aws.ecs", "ECS Deployment State Change"): normalise_deploys.ecs_deployment,
    ("aws.ecs", "ECS Service Action"): normalise_health.ecs_service_action,
    ("aws.health", "AWS Health Event"): normalise_health.aws_health,
    ("aws.guardduty", "GuardDuty Finding"): normalise_security.guardduty,
    ("aws.securityhub", "Security Hub Findings - Imported"): normalise_security.security_hub,
}


def normalise(raw: Any, environments: EnvironmentIndex, *, event_id: str = "") -> list[Notification]:
    """One raw event to its notifications (Security Hub may batch several findings in one event).

    `event_id` names the delivery (an SQS message id) for shapes that carry no id of their own:
    a bare alarm message from SNS raw delivery.
    """
    if not isinstance(raw, dict):
        raise EventError("event", "must be a JSON object")
    ctx = Context(environments)
    if raw.get("Type") == "Notification":
        return _from_sns(raw, ctx)
    if "detail-type" in raw:
        return _from_eventbridge(raw, ctx)
    if "AlarmName" in raw:
        return list(normalise_cloudwatch.from_sns_message(raw, event_id, ctx))
    return [_generic(raw, "neither an SNS notification nor an EventBridge event", ctx)]


def _from_eventbridge(raw: dict[str, Any], ctx: Context) -> list[Notification]:
    event = EventBridgeEvent.parse(raw)
    normaliser = EVENTBRIDGE_NORMALISERS.get((event.source, event.detail_type))
    if normaliser is None:
        return [_generic(raw, f"no normaliser for {event.source} / {event.detail_type}", ctx)]
    return normaliser(event, ctx)


def _from_sns(raw: dict[str, Any], ctx: Context) -> list[Notification]:
    notice = SnsNotice.parse(raw)
    message = _json_object(notice.message)
    if message is None:
        if normalise_cost.looks_like_budget_text(notice):
            return list(normalise_cost.budget_from_text(notice, ctx))
        return [_generic(raw, "an SNS text message no normaliser understands", ctx)]
    if "AlarmName" in message:
        return list(normalise_cloudwatch.from_sns_message(message, notice.message_id, ctx))
    if "detail-type" in message:  # an EventBridge rule with an SNS topic as its target
        return _from_eventbridge(message, ctx)
    if "anomalyId" in message:
        return list(normalise_cost.cost_anomaly(message, notice, ctx))
    if "budgetName" in message or "BudgetName" in message:
        return list(normalise_cost.budget_from_json(message, notice, ctx))
    return [_generic(raw, "an SNS JSON message no normaliser understands", ctx)]


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:  # RecursionError is a RuntimeError; deep nesting is refused by the size limits
        return None
    return value if isinstance(value, dict) else None


def _generic(raw: dict[str, Any], reason: str, ctx: Context) -> GenericEvent:
    """Best-effort labels from whatever the event has; never raises."""
    source = _text_or_empty(raw, "source") or ("sns" if raw.get("Type") == "Notification" else "unknown")
    detail_type = _text_or_empty(raw, "detail-type") or _text_or_empty(raw, "Subject")
    occurred = None
    when = _text_or_empty(raw, "time") or _text_or_empty(raw, "Timestamp")
    if when:
        try:
            occurred = parse_time(when, "time")
        except EventError:
            occurred = None
    account = _text_or_empty(raw, "account") or None
    region = _text_or_empty(raw, "region") or None
    return GenericEvent(
        source=source, detail_type=detail_type, reason=reason,
        title=f"{source}: {detail_type}" if detail_type else f"Unrecognised event from {source}",
        occurred_at=occurred, event_id=_text_or_empty(raw, "id") or _text_or_empty(raw, "MessageId"),
        environment=ctx.environment(account, region), account=account, region=region, raw=raw,
    )


def _text_or_empty(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value[:256] if isinstance(value, str) else ""
