"""The scheduler lease: among several opsgate processes on one database, one leads.

The leader runs the jobs that must not run twice at the same moment (scheduled checks,
reminders, following running automation). Every process tries to take or renew the lease every
`ttl_s / 3`; the holder keeps it by renewing, and when it stops (crash, pause, lost database) the
lease runs out and the next process to try takes it. A process counts itself leader only until
its last renewal's expiry minus a margin, so a stalled leader stops before another takes over;
and the jobs themselves are idempotent (keys per fire time, conditional updates), so even an
overlap at the edge runs nothing twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from opsgate.ports import Clock, Store

log = logging.getLogger("opsgate.leadership")

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL_S = 30.0


class Leadership:
    def __init__(self, store: Store, clock: Clock, holder: str, *, name: str = SCHEDULER_LEASE,
                 ttl_s: float = DEFAULT_TTL_S) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder  # unique per process: host, pid and a random part
        self.name = name
        self.ttl_s = ttl_s
        self._valid_until: datetime | None = None
        self._lock = threading.Lock()

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    def renew(self) -> bool:
        """Take or renew the lease; True while this process holds it. A database failure counts
        as not holding it (logged), never as holding it."""
        now = self.clock.now()
        try:
            with self.store.transaction() as tx:
                held = tx.lease_acquire(self.name, self.holder, now, self.ttl_s)
        except Exception:
            log.exception("could not renew the scheduler lease", extra={"holder": self.holder})
            held = False
        with self._lock:
            was = self._valid_until is not None and now < self._valid_until
            # A margin of one renewal interval: a leader that stalls stops before its lease ends.
            self._valid_until = now + timedelta(seconds=self.ttl_s - self.renew_every_s) if held else None
        if held != was:
            log.info("scheduler lease %s", "taken" if held else "lost", extra={"holder": self.holder})
        return held

    def holding(self) -> bool:
        with self._lock:
            return self._valid_until is not None and self.clock.now() < self._valid_until

    def release(self) -> None:
        """Give the lease up (a graceful stop), so another process need not wait for it to run out."""
        with self._lock:
            self._valid_until = None
        try:
            with self.store.transaction() as tx:
                tx.lease_release(self.name, self.holder)
        except Exception:
            log.exception("could not release the scheduler lease; it runs out by itself", extra={"holder": self.holder})
