"""Waking a background job: at once when it has been idle, else no sooner than its `soonest_s`
after its last start, so a stream of wake-ups gives it batches of work, not one item each."""

from __future__ import annotations

import threading
import time

from opsgate.worker import Job, Worker


def test_a_woken_job_runs_at_once_then_no_sooner_than_its_gap():
    starts: list[float] = []
    ran = threading.Event()

    def work() -> int:
        starts.append(time.monotonic())
        ran.set()
        return 0

    worker = Worker([Job("notify", work, interval_s=3600, soonest_s=0.5)])
    worker.start()
    try:
        woken = time.monotonic()
        worker.run_soon("notify")
        assert ran.wait(5)
        assert starts[0] - woken < 0.4  # idle: at once
        ran.clear()
        for _ in range(20):  # a storm of wake-ups: one run
            worker.run_soon("notify")
            time.sleep(0.01)
        assert ran.wait(5)
        time.sleep(0.3)
        assert len(starts) == 2
        assert starts[1] - starts[0] >= 0.45  # not before the gap after the last start
    finally:
        worker.stop()
