"""Lines in worker processes: `ProcessLines.handle(inbound)` runs the dispatcher in another process.

The process that acks Slack must not share its CPU time (and its GIL) with the dispatcher: each
line costs a few milliseconds of CPU, and while a line thread holds the GIL the event loop that
acks the next requests waits. `opsgate serve` therefore runs lines in a pool of processes started
with `spawn` (never `fork`: the parent has threads by then) at a lower OS priority (`nice`), so
the kernel runs the acking process first whenever both want the CPU.

Each worker builds its own dispatcher once (`build(arg)` in the worker, e.g. from Settings): its
own database connections, its own Slack Directory cache, a Chat that writes to the shared outbox,
which the parent's delivery sends. Workers run no background jobs. The parent keeps everything
that answers the person (`LineRunner`): it waits on its line thread for the Reply, then answers.
Inbound and Reply are frozen dataclasses, sent over the pool's pipes by pickle.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply

log = logging.getLogger("opsgate.slack.lines")

WORKER_NICE = 5  # how much less the workers matter to the kernel than the acking process

Handler = Callable[[Inbound], Reply]
_handle: Handler | None = None  # in a worker process: its dispatcher's handle


def _start_worker(build: Callable[[Any], Handler], arg: Any, nice: int) -> None:
    """Pool initializer, in the worker. Shutdown is the parent's to decide: a Ctrl-C or a SIGTERM
    sent to the whole process group must not kill a line half way while the parent drains."""
    global _handle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if nice:
        os.nice(nice)
    _handle = build(arg)


def _run_line(inbound: Inbound) -> Reply:
    assert _handle is not None, "the worker was not initialised"
    return _handle(inbound)


def _ready() -> int:
    return os.getpid()


class ProcessLines:
    """`handle(inbound)` with the same meaning as `Dispatcher.handle`, run in a worker process.

    `build` must be importable by name (a module-level function): it is sent to each new worker.
    `after` runs in the parent when a line is done (the parent's outbox delivery is woken, since the
    worker queued messages it cannot wake it for).
    """

    def __init__(self, processes: int, build: Callable[[Any], Handler], arg: Any, *,
                 nice: int = WORKER_NICE, after: Callable[[], None] = lambda: None) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.processes = processes
        self.after = after
        self._start = (build, arg, nice)
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=self._start)

    def start(self, timeout_s: float = 120.0) -> list[int]:
        """Start every worker and wait until each has built its dispatcher; their pids. A worker
        that cannot start (bad settings, database away) fails here, not at the first line."""
        with self._lock:
            pool = self._pool
        futures = [pool.submit(_ready) for _ in range(self.processes)]
        return sorted({future.result(timeout_s) for future in futures})

    def handle(self, inbound: Inbound) -> Reply:
        with self._lock:
            pool = self._pool
        try:
            return pool.submit(_run_line, inbound).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this line is lost with it; later lines get a
            # new pool. The idempotency key it claimed keeps a retry of it from running twice.
            with self._lock:
                if self._pool is pool:
                    log.error("a line worker process died; starting new ones")
                    self._pool = self._new_pool()
            raise
        finally:
            self.after()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
