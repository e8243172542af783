"""Security findings: GuardDuty and Security Hub (findings imported)."""

from __future__ import annotations

from typing import Any

from opsgate.core.notifications import console_links, fields
from opsgate.core.notifications.envelope import Context, EventBridgeEvent
from opsgate.domain.alerts import Alert, AlertStatus, Severity

_SECURITY_HUB_SEVERITY = {"CRITICAL": Severity.CRITICAL, "HIGH": Severity.HIGH, "MEDIUM": Severity.WARNING,
                          "LOW": Severity.INFO, "INFORMATIONAL": Severity.INFO}
_SECURITY_HUB_DONE = {"RESOLVED", "SUPPRESSED"}


def guardduty_severity(score: float) -> Severity:
    """GuardDuty's bands: 9-10 critical, 7-8.9 high, 4-6.9 medium, below low."""
    if score >= 9:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.HIGH
    if score >= 4:
        return Severity.WARNING
    return Severity.INFO


def guardduty(event: EventBridgeEvent, ctx: Context) -> list[Alert]:
    """`GuardDuty Finding`: the finding id stays the same as GuardDuty counts repeats."""
    d = event.detail
    finding_id = fields.text(d, "id", "detail", limit=256)
    account = fields.optional_text(d, "accountId", "detail", limit=32) or event.account
    region = fields.optional_text(d, "region", "detail", limit=32) or event.region
    resource_info = fields.obj(d, "resource", "detail", required=False)
    resource, tags = _guardduty_resource(resource_info)
    service = fields.obj(d, "service", "detail", required=False)
    archived = service.get("archived") is True
    finding_type = fields.text(d, "type", "detail", limit=256)
    count = fields.number(service, "count", "detail.service", default=1)
    return [Alert(
        key=f"guardduty:{account}:{region}:{finding_id}", source="guardduty", kind="finding",
        severity=guardduty_severity(fields.number(d, "severity", "detail")),
        status=AlertStatus.RESOLVED if archived else AlertStatus.FIRING,
        title=fields.optional_text(d, "title", "detail", limit=500) or finding_type,
        summary=fields.optional_text(d, "description", "detail", limit=2000), event_id=event.id,
        occurred_at=fields.timestamp(d, "updatedAt", "detail", required=False) or event.time,
        environment=ctx.environment(account, region, tags), account=account or None, region=region or None,
        resource=resource, console_url=console_links.guardduty_finding(region, finding_id),
        labels=fields.non_empty({**tags, "finding_type": finding_type, "count": str(int(count))}),
    )]


def _guardduty_resource(info: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The resource a finding is about, and its tags (which may name the environment)."""
    kind = fields.optional_text(info, "resourceType", "detail.resource", limit=64)
    instance = fields.obj(info, "instanceDetails", "detail.resource", required=False)
    if instance:
        where = "detail.resource.instanceDetails"
        tags = fields.tag_pairs(fields.array(instance, "tags", where), f"{where}.tags")
        return fields.optional_text(instance, "instanceId", where, limit=64) or kind, tags
    access_key = fields.obj(info, "accessKeyDetails", "detail.resource", required=False)
    if access_key:
        where = "detail.resource.accessKeyDetails"
        return fields.optional_text(access_key, "userName", where, limit=256) or kind, {}
    return kind, {}


def security_hub(event: EventBridgeEvent, ctx: Context) -> list[Alert]:
    """`Security Hub Findings - Imported`: a list of findings in ASFF, one alert each."""
    findings = fields.array(event.detail, "findings", "detail")
    if not findings:
        raise fields.EventError("detail.findings", "is empty")
    return [_security_hub_finding(f, f"detail.findings[{i}]", event, ctx) for i, f in enumerate(findings)]


def _security_hub_finding(finding: Any, where: str, event: EventBridgeEvent, ctx: Context) -> Alert:
    finding_id = fields.text(finding, "Id", where, limit=512)
    label = fields.optional_text(fields.obj(finding, "Severity", where, required=False), "Label",
                                 f"{where}.Severity", limit=32)
    severity = _SECURITY_HUB_SEVERITY.get(label.upper(), Severity.WARNING)
    account = fields.optional_text(finding, "AwsAccountId", where, limit=32) or event.account
    region = fields.optional_text(finding, "Region", where, limit=32) or event.region
    resources = fields.array(finding, "Resources", where)
    resource, tags = "", {}
    if resources:
        resource = fields.optional_text(resources[0], "Id", f"{where}.Resources[0]", limit=1024)
        tags = fields.string_map(resources[0], "Tags", f"{where}.Resources[0]")
    workflow = fields.optional_text(fields.obj(finding, "Workflow", where, required=False), "Status",
                                    f"{where}.Workflow", limit=32)
    compliance = fields.optional_text(fields.obj(finding, "Compliance", where, required=False), "Status",
                                      f"{where}.Compliance", limit=32)
    record_state = fields.optional_text(finding, "RecordState", where, limit=32)
    done = record_state == "ARCHIVED" or workflow in _SECURITY_HUB_DONE or compliance == "PASSED"
    return Alert(
        key=f"securityhub:{finding_id}", source="securityhub", kind="finding", severity=severity,
        status=AlertStatus.RESOLVED if done else AlertStatus.FIRING,
        title=fields.text(finding, "Title", where, limit=500),
        summary=fields.optional_text(finding, "Description", where, limit=2000), event_id=event.id,
        occurred_at=fields.timestamp(finding, "UpdatedAt", where, required=False) or event.time,
        environment=ctx.environment(account, region, tags), account=account or None, region=region or None,
        resource=resource, console_url=console_links.securityhub_finding(region, finding_id),
        labels=fields.non_empty({**tags, "product": fields.optional_text(finding, "ProductName", where, limit=128),
                                 "compliance": compliance, "workflow": workflow}),
    )
