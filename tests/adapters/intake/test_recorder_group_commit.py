"""Deliveries that arrive together are stored in one transaction, each answered after its commit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from opsgate.adapters.intake.recorder import EventRecorder, Received
from opsgate.errors import StoreError
from opsgate.testing import FakeClock


class CountingStore:
    """The real store, counting transactions; the first `hold` one waits until released."""

    def __init__(self, store, *, fail: bool = False) -> None:
        self.store, self.fail = store, fail
        self.transactions = 0
        self.first_started, self.release = threading.Event(), threading.Event()

    def transaction(self):
        self.transactions += 1
        if self.transactions == 1:
            self.first_started.set()
            self.release.wait(10)  # the others arrive meanwhile and wait for the next commit
        if self.fail:
            raise StoreError("the database does not answer")
        return self.store.transaction()


def wait_for_queued(recorder: EventRecorder, count: int) -> None:
    deadline = time.monotonic() + 10
    while recorder._queue.qsize() < count:  # the deliveries waiting for the next commit
        assert time.monotonic() < deadline
        time.sleep(0.01)


def event(n: int) -> Received:
    return Received("sns", f"message-{n}", {"Type": "Notification", "MessageId": f"message-{n}"})


def test_concurrent_deliveries_share_a_transaction_and_each_gets_its_own_answer(store):
    counting = CountingStore(store)
    recorder = EventRecorder(counting, FakeClock())
    with ThreadPoolExecutor(20) as pool:
        first = pool.submit(recorder.record_one, event(0))
        assert counting.first_started.wait(10)
        rest = [pool.submit(recorder.record_one, event(n % 10)) for n in range(1, 20)]  # 1-9 twice, 0 again
        wait_for_queued(recorder, 19)
        counting.release.set()
        answers = [first.result(10)] + [future.result(10) for future in rest]
    assert counting.transactions == 2  # the first alone, then the 19 that waited, together
    assert answers.count(True) == 10 and answers.count(False) == 10  # each id stored once
    with store.transaction() as tx:
        assert len(tx.events_claim(FakeClock().now(), limit=100, lease_s=60)) == 10


def test_a_failed_commit_fails_every_delivery_in_it(store):
    counting = CountingStore(store, fail=True)
    recorder = EventRecorder(counting, FakeClock())
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(recorder.record_one, event(0))
        assert counting.first_started.wait(10)
        rest = [pool.submit(recorder.record_one, event(n)) for n in range(1, 5)]
        counting.release.set()
        for future in [first, *rest]:
            with pytest.raises(StoreError):
                future.result(10)
