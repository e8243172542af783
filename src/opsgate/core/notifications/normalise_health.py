"""Service health: AWS Health events and ECS service action events."""

from __future__ import annotations

from opsgate.core.notifications import console_links, fields
from opsgate.core.notifications.envelope import Context, EventBridgeEvent
from opsgate.core.notifications.normalise_deploys import ecs_service_name
from opsgate.domain.alerts import Alert, AlertStatus, Severity

# Health categories: issues fire and resolve; notices and scheduled changes are shown once.
_HEALTH_SEVERITY = {"issue": Severity.HIGH, "investigation": Severity.WARNING,
                    "scheduledChange": Severity.WARNING, "accountNotification": Severity.INFO}
_ECS_SEVERITY = {"ERROR": Severity.HIGH, "WARN": Severity.WARNING, "INFO": Severity.INFO}


def aws_health(event: EventBridgeEvent, ctx: Context) -> list[Alert]:
    """`AWS Health Event`."""
    d = event.detail
    arn = fields.text(d, "eventArn", "detail", limit=1024)
    category = fields.text(d, "eventTypeCategory", "detail", limit=64)
    severity = _HEALTH_SEVERITY.get(category, Severity.WARNING)
    status_code = fields.optional_text(d, "statusCode", "detail", limit=32)
    if category in ("issue", "investigation"):
        status = AlertStatus.RESOLVED if status_code == "closed" else AlertStatus.FIRING
    else:
        status = AlertStatus.INFO
    account = fields.optional_text(d, "affectedAccount", "detail", limit=32) or event.account
    region = fields.optional_text(d, "eventRegion", "detail", limit=32) or event.region
    entities = fields.array(d, "affectedEntities", "detail")
    resource, tags = "", {}
    if entities:
        resource = fields.optional_text(entities[0], "entityValue", "detail.affectedEntities[0]", limit=1024)
        tags = fields.string_map(entities[0], "tags", "detail.affectedEntities[0]")
        if len(entities) > 1:
            resource += f" (+{len(entities) - 1} more)"
    service = fields.optional_text(d, "service", "detail", limit=64)
    type_code = fields.text(d, "eventTypeCode", "detail", limit=256)
    return [Alert(
        key=f"health:{account}:{arn}", source="health", kind=category, severity=severity, status=status,
        title=f"AWS Health: {type_code}", summary=_description(d), event_id=event.id,
        occurred_at=(fields.timestamp(d, "lastUpdatedTime", "detail", required=False)
                     or fields.timestamp(d, "startTime", "detail", required=False) or event.time),
        environment=ctx.environment(account, region, tags), account=account or None, region=region or None,
        resource=resource or service, console_url=console_links.health_event(arn),
        labels=fields.non_empty({**tags, "service": service, "event_type": type_code,
                "scope": fields.optional_text(d, "eventScopeCode", "detail", limit=32)}),
    )]


def _description(detail: dict) -> str:
    """The English description when there is one, else the first."""
    descriptions = fields.array(detail, "eventDescription", "detail")
    chosen = ""
    for index, item in enumerate(descriptions):
        where = f"detail.eventDescription[{index}]"
        text = fields.optional_text(item, "latestDescription", where)
        if not chosen or fields.optional_text(item, "language", where, limit=16).startswith("en"):
            chosen = text
    return chosen


def ecs_service_action(event: EventBridgeEvent, ctx: Context) -> list[Alert]:
    """`ECS Service Action`: one alert per service; ERROR/WARN fire it, steady state resolves it."""
    d = event.detail
    name = fields.text(d, "eventName", "detail", limit=128)
    event_type = fields.text(d, "eventType", "detail", limit=16)
    if event_type not in _ECS_SEVERITY:
        raise fields.EventError("detail.eventType", "must be one of INFO, WARN, ERROR")
    if event_type == "INFO":
        status = AlertStatus.RESOLVED if name == "SERVICE_STEADY_STATE" else AlertStatus.INFO
    else:
        status = AlertStatus.FIRING
    cluster, service = ecs_service_name(event.resources)
    return [Alert(
        key=f"ecs-service:{event.account}:{event.region}:{cluster}/{service}", source="ecs", kind="service_action",
        severity=_ECS_SEVERITY[event_type], status=status, title=f"{cluster}/{service}: {name}",
        summary=fields.optional_text(d, "reason", "detail", limit=2000), event_id=event.id,
        occurred_at=fields.timestamp(d, "createdAt", "detail", required=False) or event.time,
        environment=ctx.environment(event.account, event.region), account=event.account or None,
        region=event.region or None, resource=f"{cluster}/{service}",
        console_url=console_links.ecs_service(event.region, cluster, service),
        labels={"cluster": cluster, "service": service, "event_name": name},
    )]
