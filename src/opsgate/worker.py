"""Background jobs of one opsgate process. APScheduler runs each job at its interval, one run at a
time per job.

With several replicas on one database, jobs that must not run in two places at once are
`singleton`: they run only in the process holding the scheduler lease (core.leadership). Every
process renews or tries to take the lease every `ttl / 3` (the `lease` job); when the leader
stops, another takes over within one lease time. Jobs that are safe everywhere (their writes are
conditional, their inputs claimed) stay on every replica, which also spreads their work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from opsgate import log_context
from opsgate.core.leadership import Leadership

log = logging.getLogger("opsgate.worker")

LEASE_JOB = "lease"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], int]
    interval_s: float
    singleton: bool = False  # only in the process holding the scheduler lease
    # `run_soon` starts it no sooner than this after its last start: under a stream of wake-ups
    # (an alert storm) each run then takes a batch's worth of work instead of a few items each.
    soonest_s: float = 0.0


class Service(Protocol):
    """Background work that is a loop of its own rather than a job at an interval (SQS long polling)."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """Finish the work in hand, then return."""
        ...


class Worker:
    def __init__(self, jobs: list[Job], leadership: Leadership | None = None) -> None:
        """Without `leadership` this process counts as the only one: singleton jobs run here."""
        self.jobs = jobs
        self.leadership = leadership
        self.services: list[Service] = []  # started and stopped with the jobs
        self._running: set[str] = set()  # jobs running now (run_soon leaves them be)
        self._started: dict[str, datetime] = {}  # each job's last start
        self._soonest = {job.name: job.soonest_s for job in jobs}
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        if leadership is not None:
            self.scheduler.add_job(self._guarded(Job(LEASE_JOB, leadership.renew, leadership.renew_every_s)),
                                   "interval", seconds=leadership.renew_every_s, id=LEASE_JOB, name=LEASE_JOB)
        for job in jobs:
            self.scheduler.add_job(self._guarded(job), "interval", seconds=job.interval_s, id=job.name, name=job.name)

    def leading(self) -> bool:
        return self.leadership is None or self.leadership.holding()

    def _guarded(self, job: Job) -> Callable[[], bool]:
        def run() -> bool:
            """Run the job if this process may; True if it ran."""
            if job.singleton and not self.leading():
                return False
            self._running.add(job.name)
            self._started[job.name] = datetime.now(timezone.utc)
            try:
                with log_context.bound(job=job.name):  # every line the job writes says which job
                    job.run()
            except Exception:  # one failing job must not stop the others, nor the next run
                log.exception("background job failed")
            finally:
                self._running.discard(job.name)
            return True

        return run

    def run_all_once(self) -> list[str]:
        """Renew the lease, then run every job this process may run now, in order (tests, and the
        console after each line). Returns the names of the jobs that ran."""
        if self.leadership is not None:
            self.leadership.renew()
        return [job.name for job in self.jobs if self._guarded(job)()]

    def run_soon(self, name: str) -> None:
        """Run a job now rather than at its next interval (new work came in), or at its `soonest_s`
        after its last start if that is later. A no-op while it runs (its jobs loop until their
        work is done) or before the scheduler starts."""
        if name in self._running or not self.scheduler.running:
            return
        now = datetime.now(timezone.utc)
        started = self._started.get(name)
        soonest = self._soonest.get(name, 0.0)
        when = now if started is None else max(now, started + timedelta(seconds=soonest))
        try:
            self.scheduler.modify_job(name, next_run_time=when)
        except JobLookupError:
            log.warning("no background job to run soon", extra={"job": name})

    def start(self) -> None:
        if self.leadership is not None:
            self.leadership.renew()  # lead from the first tick, not one renewal interval later
        self.scheduler.start()
        for service in self.services:
            service.start()

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leadership is not None:
            self.leadership.release()
