"""The delivery thread: sends at once when woken, and keeps going after a failure."""

from __future__ import annotations

import threading

from opsgate.adapters.chat.slack.pump import DeliveryPump


def test_a_wake_sends_at_once_and_a_failure_does_not_stop_the_thread():
    called = threading.Semaphore(0)
    calls: list[int] = []

    def deliver() -> int:
        calls.append(1)
        called.release()
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return 0

    pump = DeliveryPump(deliver, poll_s=60)  # left alone, it would look again only after a minute
    pump.start()
    try:
        assert called.acquire(timeout=5)  # a first look at start
        pump.wake()
        assert called.acquire(timeout=5)  # woken: at once (and this one fails)
        pump.wake()
        assert called.acquire(timeout=5)  # still there after the failure
    finally:
        pump.stop(5)
    assert len(calls) == 3
