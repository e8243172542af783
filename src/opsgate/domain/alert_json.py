"""Alerts and deployment events as JSON objects (the store keeps them so) and back."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from opsgate.domain.alerts import Alert, AlertStatus, DeploymentEvent, DeploymentResult, Link, Severity

T = TypeVar("T", Alert, DeploymentEvent)

_ENUMS: dict[str, type[Enum]] = {"severity": Severity, "status": AlertStatus, "result": DeploymentResult}
_TIMES = ("occurred_at", "started_at")


def to_json(item: Alert | DeploymentEvent) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif f.name == "links":
            value = [[link.label, link.url] for link in value]
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out


def from_json(kind: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(kind)}
    values = {k: v for k, v in data.items() if k in names}
    for name, enum in _ENUMS.items():
        if name in values:
            values[name] = enum(values[name])
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    if "links" in values:
        values["links"] = tuple(Link(label, url) for label, url in values["links"])
    return kind(**values)
