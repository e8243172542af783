"""What AWS told us, in chat-neutral words: alerts, deployment events and unknown events.

Normalisers (`opsgate.core.notifications`) build these from raw events; grouping, routing and the
chat adapters read them. Everything here is immutable and I/O free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: compare severities with `a.rank >= b.rank`."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class AlertStatus(str, Enum):
    FIRING = "firing"
    RESOLVED = "resolved"
    INFO = "info"  # a one-off notice: shown once, never "resolves"


class DeploymentResult(str, Enum):
    STARTED = "started"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"  # stopped or cancelled by someone
    SUPERSEDED = "superseded"  # a newer execution took its place

    @property
    def finished(self) -> bool:
        return self not in (DeploymentResult.STARTED, DeploymentResult.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


# Attributes every alert has, usable as labels in `group_by`, routing and silences.
BUILTIN_LABELS = ("source", "kind", "severity", "status", "environment", "account", "region", "resource")
# Names people use for a label that is stored under another one.
LABEL_ALIASES = {"alarm": "alarm_name"}


@dataclass(frozen=True, slots=True)
class Alert:
    """A condition that fires and later resolves. `key` is the same for every repeat of one condition
    (an alarm, a finding, a health event), so repeats update one alert instead of adding more."""

    key: str
    source: str  # the AWS service family: "cloudwatch", "guardduty", "health", ...
    kind: str  # what inside it: "metric_alarm", "composite_alarm", "finding", ...
    severity: Severity
    status: AlertStatus
    title: str
    summary: str
    occurred_at: datetime
    event_id: str  # the raw event's id (EventBridge id, SNS MessageId): ties the alert to its origin
    environment: str | None = None
    account: str | None = None
    region: str | None = None
    resource: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # resource tags and source-specific labels
    console_url: str | None = None

    def __hash__(self) -> int:  # labels is a dict; the dedup key identifies the condition
        return hash((self.key, self.status, self.occurred_at))

    def label(self, name: str) -> str:
        """A built-in attribute or a label by name; "" when absent (Alertmanager's convention)."""
        if name in BUILTIN_LABELS:
            value = getattr(self, name)
            return "" if value is None else str(getattr(value, "value", value))
        return self.labels.get(name, "") or self.labels.get(LABEL_ALIASES.get(name, ""), "")

    @property
    def firing(self) -> bool:
        return self.status is AlertStatus.FIRING


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    """A pipeline, stage, action or deployment changed state: shown as a summary, not grouped."""

    key: str  # one execution/deployment: later states update the same chat message
    source: str  # "codepipeline", "codedeploy", "ecs"
    kind: str  # "pipeline_execution", "pipeline_stage", "pipeline_action", "deployment", "service_deployment"
    result: DeploymentResult
    title: str
    summary: str
    occurred_at: datetime
    event_id: str
    environment: str | None = None
    account: str | None = None
    region: str | None = None
    resource: str = ""
    revision: str | None = None
    started_by: str | None = None
    started_at: datetime | None = None
    links: tuple[Link, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.key, self.result, self.occurred_at))

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to this state; None when the start is unknown."""
        if self.started_at is None:
            return None
        return max(0.0, (self.occurred_at - self.started_at).total_seconds())

    @property
    def failed(self) -> bool:
        return self.result is DeploymentResult.FAILED

    @property
    def severity(self) -> Severity:
        """For routing and silences: a failure is high, everything else info."""
        return Severity.HIGH if self.failed else Severity.INFO

    def label(self, name: str) -> str:
        """Like `Alert.label`; `status` is the result (succeeded, failed, ...)."""
        if name == "severity":
            return self.severity.value
        if name == "status":
            return self.result.value
        if name in BUILTIN_LABELS:
            value = getattr(self, name)
            return "" if value is None else str(value)
        return self.labels.get(name, "")


@dataclass(frozen=True, slots=True)
class GenericEvent:
    """An event no normaliser understands. Never dropped: shown as a generic card and counted."""

    source: str
    detail_type: str
    reason: str  # why it is generic: "no normaliser for aws.s3 / Object Created"
    title: str
    occurred_at: datetime | None
    event_id: str
    environment: str | None = None
    account: str | None = None
    region: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.source, self.detail_type, self.event_id))


Notification = Alert | DeploymentEvent | GenericEvent

