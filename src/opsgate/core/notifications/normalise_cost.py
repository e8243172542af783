"""Cost notices: AWS Budgets alerts and Cost Anomaly Detection alerts, both delivered by SNS.

Both are one-off notices (status info): Budgets alerts once per threshold and period, an anomaly
once when found; neither sends a "resolved".
"""

from __future__ import annotations

import re
from typing import Any

from opsgate.core.notifications import console_links, fields
from opsgate.core.notifications.envelope import Context, SnsNotice
from opsgate.domain.alerts import Alert, AlertStatus, Severity

_BUDGET_SUBJECT = re.compile(r"AWS Budgets:\s*(?P<name>.+?)\s+has exceeded your alert threshold", re.IGNORECASE)
_BUDGET_LINE = re.compile(r"^\s*(?P<key>Budget Name|AWS Account|Alert Type|Alert Threshold|ACTUAL Amount|"
                          r"FORECASTED Amount|Budgeted Amount)\s*:?\s*(?P<value>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_BUDGET_SEVERITY = {"ACTUAL": Severity.HIGH, "FORECASTED": Severity.WARNING}


def looks_like_budget_text(notice: SnsNotice) -> bool:
    return bool(_BUDGET_SUBJECT.search(notice.subject)) or "AWS Budget Notification" in notice.message[:200]


def budget_from_text(notice: SnsNotice, ctx: Context) -> list[Alert]:
    """The plain-text e-mail style message Budgets publishes to SNS."""
    lines = {m.group("key").lower(): m.group("value") for m in _BUDGET_LINE.finditer(notice.message[:20000])}
    subject = _BUDGET_SUBJECT.search(notice.subject)
    name = lines.get("budget name") or (subject.group("name") if subject else "")
    if not name:
        raise fields.EventError("Message", "names no budget (no 'Budget Name:' line or Budgets subject)")
    account = re.sub(r"\D", "", lines.get("aws account", ""))[:12]
    alert_type = lines.get("alert type", "ACTUAL").upper()
    amount = lines.get(f"{alert_type.lower()} amount", "")
    threshold = lines.get("alert threshold", "")
    summary = ", ".join(p for p in (f"{alert_type.lower()} {amount}" if amount else "",
                                    f"threshold {threshold}" if threshold else "") if p)
    return [_budget_alert(name, account, alert_type, summary, notice, ctx)]


def budget_from_json(message: dict[str, Any], notice: SnsNotice, ctx: Context) -> list[Alert]:
    """A JSON budget notice (`budgetName`/`BudgetName`, `accountId`, `notificationType`)."""
    name = fields.optional_text(message, "budgetName", limit=256) or fields.text(message, "BudgetName", limit=256)
    account = fields.optional_text(message, "accountId", limit=32) or fields.optional_text(message, "AccountId", limit=32)
    alert_type = (fields.optional_text(message, "notificationType", limit=32)
                  or fields.optional_text(message, "NotificationType", limit=32) or "ACTUAL").upper()
    return [_budget_alert(name, account, alert_type, fields.optional_text(message, "message", limit=2000), notice, ctx)]


def _budget_alert(name: str, account: str, alert_type: str, summary: str, notice: SnsNotice, ctx: Context) -> Alert:
    return Alert(
        key=f"budget:{account}:{name}:{alert_type}", source="budgets", kind="budget_threshold",
        severity=_BUDGET_SEVERITY.get(alert_type, Severity.WARNING), status=AlertStatus.INFO,
        title=f"Budget {name}: {alert_type.lower()} cost over the alert threshold", summary=summary,
        occurred_at=notice.timestamp, event_id=notice.message_id,
        environment=ctx.environment(account, None), account=account or None, region=None, resource=name,
        console_url=console_links.budget(name), labels={"budget": name, "alert_type": alert_type},
    )


def cost_anomaly(message: dict[str, Any], notice: SnsNotice, ctx: Context) -> list[Alert]:
    """A Cost Anomaly Detection alert (an IMMEDIATE subscription's SNS JSON)."""
    anomaly_id = fields.text(message, "anomalyId", limit=256)
    account = fields.optional_text(message, "accountId", limit=32)
    impact = fields.obj(message, "impact", required=False)
    total = fields.number(impact, "totalImpact", "impact", default=0.0)
    dimension = fields.optional_text(message, "dimensionalValue", limit=256)
    causes = fields.array(message, "rootCauses")
    cause: dict[str, str] = {}
    if causes:
        where = "rootCauses[0]"
        cause = {k: fields.optional_text(causes[0], k, where, limit=256)
                 for k in ("service", "region", "linkedAccount", "usageType")}
    monitor = fields.optional_text(message, "monitorArn", limit=1024)
    link = fields.optional_text(message, "anomalyDetailsLink", limit=2000)
    if not link.startswith("https://"):
        link = console_links.cost_anomaly(monitor.rsplit("/", 1)[-1], anomaly_id)
    account_for_env = cause.get("linkedAccount") or account
    return [Alert(
        key=f"cost-anomaly:{anomaly_id}", source="cost_anomaly", kind="cost_anomaly", severity=Severity.WARNING,
        status=AlertStatus.INFO, title=f"Cost anomaly: ${total:,.2f} unexpected spend in {dimension or 'AWS'}",
        summary=", ".join(f"{k} {v}" for k, v in cause.items() if v), occurred_at=notice.timestamp,
        event_id=notice.message_id, environment=ctx.environment(account_for_env, cause.get("region")),
        account=account or None, region=cause.get("region") or None, resource=dimension, console_url=link,
        labels=fields.non_empty({"anomaly_id": anomaly_id, "monitor": monitor, **cause}),
    )]
