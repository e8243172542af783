"""Background jobs of one opsgate process: expire pending requests, follow running automation,
read approval queues. APScheduler runs each job at its interval, one run at a time per job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("opsgate.worker")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], int]
    interval_s: float


def _guarded(job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run()
        except Exception:  # one failing job must not stop the others, nor the next run
            log.exception("background job failed", extra={"job": job.name})

    return run


class Worker:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        for job in jobs:
            self.scheduler.add_job(_guarded(job), "interval", seconds=job.interval_s, id=job.name, name=job.name)

    def run_all_once(self) -> None:
        """Run every job now, in order (tests, and the console after each line)."""
        for job in self.jobs:
            _guarded(job)()

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
