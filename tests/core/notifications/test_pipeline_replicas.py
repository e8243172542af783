"""Two replicas (own engines, processors and flushers) on one PostgreSQL database, running the
notification jobs at the same moments: every event is processed once, every group gets exactly one
message and one thread reply per flush, never two."""

from __future__ import annotations

import collections
import threading

from opsgate.adapters.chat.slack.chat import SlackChat
from tests.core.notifications.alert_samples import T0
from tests.core.notifications.notify_world import CATALOG, NotifyWorld, alarm
from opsgate.testing import FakeClock

PER_ALARM = CATALOG.replace("group_by: [environment, source]", "group_by: [alarm]")  # every alarm a group


def together(*calls):
    barrier = threading.Barrier(len(calls), timeout=30)
    errors = []

    def run(call):
        barrier.wait()
        try:
            call()
        except Exception as err:  # collected: the test fails on it
            errors.append(err)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a replica hung"
    assert errors == []


def outbox_by_subject(world: NotifyWorld) -> dict[str, collections.Counter]:
    with world.store.transaction() as tx:
        items = tx.outbox_due("slack", world.clock.now(), limit=10_000, lease_s=0)
        items += [i for key in {i.order_key for i in items}
                  for i in _rest(tx, key, max((j.id for j in items if j.order_key == key)))]
    found: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for item in items:
        found[item.order_key][item.payload["kind"]] += 1
    return found


def sent(world: NotifyWorld) -> None:
    """What a delivery does with each item it sent."""
    with world.store.transaction() as tx:
        for item in tx.outbox_due("slack", world.clock.now(), limit=10_000, lease_s=0):
            for later in [item, *_rest(tx, item.order_key, item.id)]:
                tx.outbox_done(later.id)


def _rest(tx, key, after):
    while (item := tx.outbox_next("slack", key, after)) is not None:
        yield item
        after = item.id


def test_two_replicas_process_and_flush_at_once_and_nothing_is_posted_twice(postgres_url):
    clock = FakeClock(T0)
    one = NotifyWorld(postgres_url, catalog=PER_ALARM, clock=clock)
    two = NotifyWorld(postgres_url, catalog=PER_ALARM, clock=clock)
    for world in (one, two):
        world.chat = world.pipeline.chat = world.flusher.chat = world.pipeline.deployments.chat = SlackChat(world.store, clock)
        world.processor.batch = 25  # many small batches: the replicas interleave
    names = [f"alarm-{n}" for n in range(40)]
    one.receive(*(alarm(name, at=T0) for name in names))
    one.receive(*(alarm(name, at=T0.replace(second=1)) for name in names))  # each alarm twice
    together(one.process, two.process, one.process, two.process)
    assert len([o for o in one.outcomes().values() if o == "alert"]) == 80
    clock.advance(30)
    together(one.flusher.flush_due, two.flusher.flush_due, one.flusher.flush_due, two.flusher.flush_due)
    queued = outbox_by_subject(one)
    assert len(queued) == 40
    assert all(kinds == {"notice": 1, "reply": 1} for kinds in queued.values()), queued
    one.receive(*(alarm(name, "OK", at=T0.replace(second=40)) for name in names))
    together(one.process, two.process)
    clock.advance(300)
    together(one.flusher.flush_due, two.flusher.flush_due)
    assert outbox_by_subject(one) == queued  # the first messages still wait: no flush piles more on
    sent(one)
    clock.advance(1)
    together(one.flusher.flush_due, two.flusher.flush_due)
    queued = outbox_by_subject(one)
    assert len(queued) == 40 and all(kinds == {"notice": 1, "reply": 1} for kinds in queued.values()), queued
    with one.store.transaction() as tx:
        assert tx.alert_groups_recent(open_only=True, limit=100) == []  # all resolved and ended
    one.close()
    two.close()
