"""The retention job: processed events past the window go, in batches; the rest stay."""

from __future__ import annotations

from datetime import timedelta

from opsgate.adapters.store import open_store
from opsgate.core.notifications.retention import EventRetention
from opsgate.testing import FakeClock
from tests.core.notifications.alert_samples import T0


def test_processed_events_older_than_the_window_are_deleted_in_batches(database_url):
    store = open_store(database_url)
    clock = FakeClock(T0)
    try:
        with store.transaction() as tx:
            tx.events_add([("sns", f"m-{n}", {"n": n}) for n in range(7)], T0)
            tx.events_add([("sns", "recent", {})], T0 + timedelta(days=29))
            claimed = tx.events_claim(T0, limit=6, lease_s=60)
            tx.events_processed({"alert": [event.id for event in claimed]}, T0)
        clock.set(T0 + timedelta(days=30, seconds=1))
        retention = EventRetention(store, clock, keep_days=30, batch=4)
        assert retention.prune() == 6  # two batches; m-6 was never processed
        assert retention.prune() == 0
        with store.transaction() as tx:
            left = tx.events_claim(clock.now(), limit=10, lease_s=60)
        assert [event.external_id for event in left] == ["m-6", "recent"]
    finally:
        store.close()
