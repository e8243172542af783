"""A thread that sends the outbox: at once when something was queued (`wake`), and every
`poll_s` for retries that came due and items other replicas queued."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from opsgate import log_context

log = logging.getLogger("opsgate.slack.pump")


class DeliveryPump:
    def __init__(self, deliver_due: Callable[[], int], *, poll_s: float = 1.0) -> None:
        self.deliver_due = deliver_due
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="opsgate-slack-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the item in flight (so it is neither lost nor sent twice), then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        with log_context.bound(job="slack-outbox"):
            self._run()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self.deliver_due()
            except Exception:  # the database is away, say: keep going, the items wait in the outbox
                log.exception("outbox delivery failed")
                sent = 0
            if sent == 0:
                self._wake.wait(self.poll_s)
