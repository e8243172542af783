"""Keeping the received events table to a window: processed events older than `keep_days` are
deleted, a batch per transaction. Unprocessed events stay whatever their age (they are work).

The window must outlast every redelivery a sender may make (SQS keeps a message up to 14 days):
the stored event is what recognises a redelivered one, so settings refuse less than 14 days.
Statistics of events received (`stats`) count what is kept.
"""

from __future__ import annotations

from datetime import timedelta

from opsgate.ports import Clock, Store

BATCH = 5000  # events deleted per transaction


class EventRetention:
    def __init__(self, store: Store, clock: Clock, *, keep_days: int, batch: int = BATCH) -> None:
        self.store = store
        self.clock = clock
        self.keep = timedelta(days=keep_days)
        self.batch = batch

    def prune(self) -> int:
        """Delete what is past the window; returns how many events went."""
        before = self.clock.now() - self.keep
        total = 0
        while True:
            with self.store.transaction() as tx:
                deleted = tx.events_prune(before, limit=self.batch)
            total += deleted
            if deleted < self.batch:
                return total
