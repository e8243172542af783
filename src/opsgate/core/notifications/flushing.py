"""The flush job: groups whose timer ran out are evaluated (Alertmanager's rules, `evaluate_due`),
their messages queued in the chat outbox and their new state written, in one transaction under
the store's grouping lock: two replicas never flush the same group, and a crash before the commit
leaves the group due again, with nothing queued.

Per flush at most two chat calls: the group's message (posted, or updated in place) and one reply
in its thread telling what changed (with the mentions, when the group's message is not new). A
group is not flushed while its last flush's messages still wait in the outbox: with the channel's
pace (about one message a second) several groups' flushes can take longer than a group interval,
and flushing again meanwhile would only queue more calls; the next flush carries every change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from opsgate.core.notifications import chat_queue, counters
from opsgate.core.notifications.context_step import AlarmContextStep, ContextRequest
from opsgate.core.notifications.grouping import Flush, FlushReason, evaluate_due
from opsgate.core.notifications.messages import group_details, group_message, reminder
from opsgate.core.notifications.stored_grouping import save_groups
from opsgate.domain.alert_groups import StoredGroup
from opsgate.domain.catalog import Catalog
from opsgate.domain.message import Mention
from opsgate.ports import Chat, Clock, Store, Transaction

PER_TRANSACTION = 50  # groups flushed per transaction
QUEUED_RETRY_S = 1  # a group whose messages still wait in the outbox is looked at again this soon


class GroupFlusher:
    def __init__(self, catalog: Catalog, store: Store, chat: Chat, clock: Clock, *,
                 context: AlarmContextStep | None = None) -> None:
        self.catalog = catalog
        self.rules = catalog.notifications
        self.store = store
        self.chat = chat
        self.clock = clock
        self.context = context or AlarmContextStep(self.rules)

    def flush_due(self) -> int:
        """Flush every group that is due; returns how many groups were looked at. Runs every
        second; when the earliest group timer is still ahead it only reads that, taking no lock."""
        with self.store.reading() as tx:
            due_at = tx.alert_groups_next_due_at()
        if due_at is None or due_at > self.clock.now():
            return 0
        done = 0
        while True:
            requests: list[ContextRequest] = []
            with self.store.transaction() as tx:
                tx.alerts_lock()
                now = self.clock.now()
                groups = tx.alert_groups_due(now, limit=PER_TRANSACTION)
                counts: dict[str, int] = {}
                queued = chat_queue.still_queued(self.chat, tx, [group.subject for group in groups])
                changes = [self._wait(group, now) if group.subject in queued
                           else self._flush(tx, group, now, counts, requests) for group in groups]
                save_groups(tx, changes, now)
                tx.notifications_counted(counts, now)
            if groups:
                chat_queue.wake(self.chat)
            self.context(requests)
            done += len(groups)
            if len(groups) < PER_TRANSACTION:
                return done

    @staticmethod
    def _wait(group: StoredGroup, now: datetime) -> tuple[StoredGroup, set[str]]:
        """The group's last messages are still queued (the channel's pace, or chat is down): look
        again shortly. The flush that follows carries every change since, so a busy channel gets
        fewer, fuller updates instead of a growing queue of stale ones."""
        group.state.next_flush_at = now + timedelta(seconds=QUEUED_RETRY_S)
        return group, set()

    def _flush(self, tx: Transaction, group: StoredGroup, now: datetime, counts: dict[str, int],
               requests: list[ContextRequest]) -> tuple[StoredGroup, set[str]]:
        """Queue the group's messages; returns it with the alerts that left it, for `save_groups`."""
        before = set(group.state.alerts)
        flush, ended = evaluate_due(group.state, self.rules.grouping_for(group.route), now)
        if flush is not None:
            for message, count in self._messages(group, flush, now):
                chat_queue.queue(self.chat, tx, message)
                counts[count] = counts.get(count, 0) + 1
            # Context for the alarm that opens the group's message, not for each that joins later:
            # with the post it keeps a new group to two chat calls, as every flush after it.
            opening = next((a for a in flush.newly_firing if self.context.wanted(a)), None) if flush.new_message else None
            if opening is not None:
                requests.append(ContextRequest(opening, group.channel, group.subject))
        if ended:
            group.ended_at = now
            group.state.alerts.clear()  # what is left never fired visibly (resolved during group_wait)
        return group, before - set(group.state.alerts)

    def _messages(self, group: StoredGroup, flush: Flush, now: datetime):
        if flush.reason is FlushReason.REPEAT:
            if not group.acknowledged:  # someone is on it: no reminders
                yield reminder(group, now), counters.THREAD_REPLIES
            return
        mentions = self._mentions(group, flush) if flush.mention else ()
        main = group_message(group, flush.firing, resolved_now=flush.resolved,
                             mentions=mentions if flush.new_message else ())
        yield main, counters.MESSAGES_POSTED if flush.new_message else counters.MESSAGES_UPDATED
        details = group_details(group, flush, mentions=() if flush.new_message else mentions)
        if details is not None:
            yield details, counters.THREAD_REPLIES

    def _mentions(self, group: StoredGroup, flush: Flush) -> tuple[Mention, ...]:
        rule = self.rules.grouping_for(group.route)
        loud = [a for a in flush.newly_firing if a.severity.at_least(rule.mention_at)]
        owned = [name for a in loud for name in (a.resource, a.label("alarm"))]  # an alarm's owner by either
        who = self.rules.mention_for(group.route) + self.rules.owners_of(*owned)
        return chat_queue.mentions(self.catalog, chat_queue.platform_of(self.chat), who)
