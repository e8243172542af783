"""Small alerts for grouping tests."""

from __future__ import annotations

from datetime import datetime, timezone

from opsgate.domain.alerts import Alert, AlertStatus, Severity

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def alert(name: str, *, status: AlertStatus = AlertStatus.FIRING, severity: Severity = Severity.HIGH,
          environment: str = "prod", source: str = "cloudwatch", **labels: str) -> Alert:
    return Alert(key=f"{source}:{name}", source=source, kind="metric_alarm", severity=severity, status=status,
                 title=name, summary=f"{name} is {status.value}", occurred_at=T0, event_id=f"e-{name}",
                 environment=environment, account="222222222222", region="eu-west-1", resource=name,
                 labels=dict(labels))


def resolved(name: str, **kw) -> Alert:
    return alert(name, status=AlertStatus.RESOLVED, **kw)
