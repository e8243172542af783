"""Deployment summaries: when a pipeline execution, CodeDeploy deployment or ECS roll-out
finishes, one message with its result, duration, revision, who started it and links; a failure
mentions the owners. Earlier states are remembered (for the duration), not posted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsgate.core.notifications import chat_queue, counters
from opsgate.core.notifications.messages import deployment_message
from opsgate.domain.alert_groups import DeploymentRecord
from opsgate.domain.alert_json import to_json
from opsgate.domain.alerts import DeploymentEvent, DeploymentResult
from opsgate.domain.catalog import Catalog
from opsgate.domain.notification_rules import Mentions
from opsgate.domain.short_ids import new_short_id
from opsgate.ports import Chat

if TYPE_CHECKING:
    from opsgate.core.notifications.pipeline import Batch, Item

# Whole deployments; stage and action changes only matter as part of their pipeline's result.
SUMMARISED_KINDS = frozenset({"pipeline_execution", "deployment", "service_deployment"})
# Labels naming what a deployment deploys, matched against `notifications.owners`.
_OWNED_LABELS = ("pipeline", "application", "deployment_group", "service", "cluster")


class DeploymentSummaries:
    def __init__(self, catalog: Catalog, chat: Chat) -> None:
        self.catalog = catalog
        self.rules = catalog.notifications
        self.chat = chat

    def summarise(self, items: list[Item], batch: Batch) -> list[Item]:
        """The last step: deployment events are remembered, finished ones posted."""
        rest = []
        for item in items:
            event = item.notification
            if not isinstance(event, DeploymentEvent):
                rest.append(item)
            elif event.kind not in SUMMARISED_KINDS:
                batch.outcome(item.event, "deployment step")
            else:
                self._remember(item, event, batch)
        return rest

    def _remember(self, item: Item, event: DeploymentEvent, batch: Batch) -> None:
        finished = event.result.finished
        record = batch.tx.deployment_put(DeploymentRecord(
            id=new_short_id("d"), key=event.key, channel=item.channel, route=item.route,
            started_at=event.started_at or (None if finished else event.occurred_at),
            finished_at=event.occurred_at if finished else None, body=to_json(event),
        ), batch.now)
        if not finished:
            batch.outcome(item.event, "deployment started")
            return
        who = self.rules.owners_of(event.resource, *(event.labels.get(name, "") for name in _OWNED_LABELS))
        if event.result is not DeploymentResult.FAILED:
            who = Mentions()  # only failures mention anyone
        elif not who:
            who = self.rules.mention_for(item.route)
        mentions = chat_queue.mentions(self.catalog, chat_queue.platform_of(self.chat), who)
        chat_queue.queue(self.chat, batch.tx, deployment_message(record, event, mentions=mentions))
        batch.count(counters.DEPLOYMENTS)
        batch.count(counters.MESSAGES_POSTED)
        batch.outcome(item.event, "deployment")
