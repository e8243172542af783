"""The seam for an alarm's context (a chart of its metric, its log lines): asked for when an
alarm first shows up in a group's message, after that message is committed to the outbox.

A no-op until an `AlertContext` (fetching) and an `AlertContextChat` (showing, in the thread of the
group's message) are wired. Fetching may take seconds and never happens inside a transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opsgate.core.alert_context import log_query_for
from opsgate.domain.alerts import Alert
from opsgate.domain.notification_rules import NotificationRules
from opsgate.ports import AlertContext, AlertContextChat

log = logging.getLogger("opsgate.notifications.context")

PER_RUN = 5  # alarms given context per flush run: a storm of new alarms must not stall the flushing


@dataclass(frozen=True, slots=True)
class ContextRequest:
    alert: Alert
    channel: str
    message_key: str  # the group message's subject (its outbox order key)


class AlarmContextStep:
    def __init__(self, rules: NotificationRules, context: AlertContext | None = None,
                 chat: AlertContextChat | None = None) -> None:
        self.rules = rules
        self.context = context
        self.chat = chat

    @property
    def wired(self) -> bool:
        return self.context is not None and self.chat is not None

    def wanted(self, alert: Alert) -> bool:
        """A newly firing CloudWatch alarm, when charts are on or a log query names it."""
        if not (self.wired and alert.source == "cloudwatch" and alert.firing):
            return False
        return self.rules.charts or log_query_for(alert.label("alarm") or alert.title, self.rules.context) is not None

    def __call__(self, requests: list[ContextRequest]) -> None:
        if not self.wired:
            return
        assert self.context is not None and self.chat is not None
        for request in requests[:PER_RUN]:
            alarm = request.alert.label("alarm") or request.alert.title
            try:
                attachments = self.context.attachments(request.alert, log_query_for(alarm, self.rules.context))
                self.chat.post_context(request.channel, request.message_key, attachments)
            except Exception:  # context is a courtesy: the alert message went out already
                log.exception("alarm context failed", extra={"alarm": alarm})
