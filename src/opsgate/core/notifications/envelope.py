"""The common part of every EventBridge event, and what each source normaliser is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsgate.core.notifications import fields
from opsgate.core.notifications.environments import EnvironmentIndex
from opsgate.domain.alerts import Notification


@dataclass(frozen=True, slots=True)
class EventBridgeEvent:
    id: str
    source: str
    detail_type: str
    account: str
    region: str
    time: datetime
    resources: tuple[str, ...]
    detail: dict[str, Any]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> EventBridgeEvent:
        resources = fields.array(raw, "resources")
        if not all(isinstance(r, str) for r in resources):
            raise fields.EventError("resources", "must be a list of ARNs")
        return cls(
            id=fields.text(raw, "id", limit=128),
            source=fields.text(raw, "source", limit=128),
            detail_type=fields.text(raw, "detail-type", limit=256),
            account=fields.optional_text(raw, "account", limit=32),
            region=fields.optional_text(raw, "region", limit=32),
            time=fields.timestamp(raw, "time"),  # type: ignore[arg-type]  # required: never None
            resources=tuple(resources),
            detail=fields.obj(raw, "detail"),
        )


@dataclass(frozen=True, slots=True)
class SnsNotice:
    """An SNS Notification's envelope fields (the signature is checked at the intake, not here)."""

    message_id: str
    topic_arn: str
    subject: str
    timestamp: datetime
    message: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SnsNotice:
        return cls(
            message_id=fields.text(raw, "MessageId", limit=128),
            topic_arn=fields.optional_text(raw, "TopicArn", limit=1024),
            subject=fields.optional_text(raw, "Subject", limit=256),
            timestamp=fields.timestamp(raw, "Timestamp"),  # type: ignore[arg-type]  # required: never None
            message=fields.text(raw, "Message", limit=1024 * 1024),
        )


@dataclass(frozen=True, slots=True)
class Context:
    """What a normaliser may use besides the event: the catalog's environments."""

    environments: EnvironmentIndex

    def environment(self, account: str | None, region: str | None, tags: dict[str, str] | None = None) -> str | None:
        return self.environments.resolve(account or None, region or None, tags)


EventBridgeNormaliser = Callable[[EventBridgeEvent, Context], list[Notification]]
