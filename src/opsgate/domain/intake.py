"""Where events come in from: SNS topics, SQS queues (EventBridge), webhooks. Built from the
catalog's `intake:` section; secrets are not here, only the names of the variables holding them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IntakeQueue:
    """An SQS queue read with an environment's credentials (its role). `account` and `region` are
    the queue's own when the catalog gave a URL or ARN; None means the environment's."""

    environment: str
    name: str
    account: str | None = None
    region: str | None = None

    @property
    def label(self) -> str:
        """How logs and metrics name it: environment/queue."""
        return f"{self.environment}/{self.name}"


@dataclass(frozen=True, slots=True)
class WebhookSource:
    name: str  # POST /events/webhook/<name>; stored with source webhook:<name>
    secret_env: str  # the environment variable holding the HMAC secret (never the secret itself)


@dataclass(frozen=True, slots=True)
class Intake:
    sns_topics: tuple[str, ...] = ()
    queues: tuple[IntakeQueue, ...] = ()
    webhooks: tuple[WebhookSource, ...] = ()
