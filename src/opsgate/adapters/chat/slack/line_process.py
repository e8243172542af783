"""Running acked lines in a second process, so that acking never waits for them.

`opsgate serve` acks every Slack request on its event loop. Lines run on threads; in one process
those threads hold the GIL the event loop needs, and under load acks queue behind the work. With
`LineProcess` the serving process only verifies, acks and hands the line over a pipe; a child
process at the lowest OS priority, in an idle CPU cgroup where the OS allows one (so the kernel
lets the acking process run first), runs the lines, sends the outbox and runs the background
jobs. What runs a line is the same `LineRunner` either way.

The child is forked from the serving process once that has imported everything, with the
garbage collector's objects frozen first, so the two share most of their memory pages instead of
each holding its own copy of the modules (about 60 MB less than a `spawn`ed child).

Lines go over a pipe (`hand_over.HandOver`: a write never blocks the event loop). If the child
dies, the next hand-over starts a new one, which reads on from the same pipe; lines the dead
child had taken but not finished are lost, as they would be in a crashed single process (Slack
shows the person no answer; the dispatcher's idempotency keys make a retry safe).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from opsgate.adapters.chat.slack.hand_over import HandOver
from opsgate.adapters.chat.slack.inbound import Delivery, Target
from opsgate.adapters.cpu_groups import Placed, place_in_background_group
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound

log = logging.getLogger("opsgate.slack.line_process")

LINE = "line"
DENY_FORM = "deny-form"
REFUSED = "refused"  # a forged or stale request: the child writes the audit record
EVENTS_STORED = "events-stored"  # intake stored new events: the child's event processing starts now

# main(arg, reader) runs in the child (reader: the pipe's reading end); it must be importable
# (spawn pickles it by name).
ChildMain = Callable[[Any, Connection], None]


class LineProcess:
    """The serving process's side: `Lines` for the Bolt app, and the refusal audit hook."""

    def __init__(self, main: ChildMain, arg: Any, *, start_method: str = "fork") -> None:
        self._context = multiprocessing.get_context(start_method)
        self._main = main
        self._arg = arg
        self._reader, writer = self._context.Pipe(duplex=False)
        self._hand_over_pipe = HandOver(writer, plain=(Delivery, Target, Inbound, Actor))
        self._process: BaseProcess | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        with self._lock:
            self._spawn()

    def start(self, delivery: Delivery) -> None:
        self._hand_over((LINE, delivery))

    def ask_deny_reason(self, delivery: Delivery, request_id: str) -> None:
        self._hand_over((DENY_FORM, delivery, request_id))

    def audit_refusal(self, platform: str, reason: str, correlation: dict[str, str]) -> None:
        self._hand_over((REFUSED, platform, reason, correlation))

    def events_stored(self) -> None:
        """Intake's wake-up (called after each commit of new events; never fails a delivery)."""
        self._hand_over((EVENTS_STORED,))

    def problem(self) -> str | None:
        """For /readyz (asked every few seconds): a dead line process is replaced here too, so
        a replica that gets no traffic does not stay without one."""
        if self._ensure_running():
            return None
        return "the line process could not be started"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self, timeout_s: float = 30.0) -> bool:
        """Let the child finish what it has (lines, the outbox item in flight), then stop it.
        False if it had to be terminated at the timeout."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return True
        self._hand_over_pipe.put(None)
        process.join(timeout_s)
        finished = not process.is_alive()
        if not finished:
            log.error("the line process did not stop in time; terminating it", extra={"timeout_s": timeout_s})
            process.terminate()
            process.join(5)
        if finished:  # else what waits could never be read: leave it
            self._hand_over_pipe.close()
        return finished

    def _hand_over(self, item: tuple[Any, ...]) -> None:
        self._ensure_running()
        self._hand_over_pipe.put(item)

    def _ensure_running(self) -> bool:
        process = self._process
        if process is None or process.is_alive():
            return process is not None
        with self._lock:
            if self._process is process:
                log.error("the line process died; starting a new one", extra={"exitcode": process.exitcode})
                self._spawn()
        return self._process is not None and self._process.is_alive()

    def _spawn(self) -> None:
        if self._context.get_start_method() == "fork":
            # Objects that exist now are never collected in either process: a collection writes
            # to every object it visits, which would copy the pages the two processes share.
            gc.freeze()
        self._process = self._context.Process(target=self._main, args=(self._arg, self._reader),
                                              name="opsgate-lines", daemon=True)
        self._process.start()


def serve_queue(reader: Connection, handlers: Mapping[str, Callable[..., None]], *, poll_s: float = 1.0) -> None:
    """The child's loop: run each handed-over item until told to stop (None), or until the parent
    process is gone (nobody would read the answers' acks any more)."""
    parent = multiprocessing.parent_process()
    while True:
        if not reader.poll(poll_s):
            if parent is not None and not parent.is_alive():
                log.warning("the serving process is gone; the line process stops")
                return
            continue
        item = reader.recv()
        if item is None:
            return
        kind, *args = item
        try:
            handlers[kind](*args)
        except Exception:  # one bad item must not stop the lines behind it
            log.exception("a handed-over item failed", extra={"kind": kind})


def become_line_process(nice: int, cpu_group: bool) -> None:
    """First thing in the child, before it starts any thread (threads inherit all of this):
    - run below the acking process: at `nice`, and with `cpu_group` in an idle CPU cgroup where the
      OS allows one (adapters/cpu_groups.py: at nice alone a line thread can keep the CPU for a
      scheduler tick after an ack arrived). Not the idle scheduling class per thread: that cut
      the alert storm from 918 to 697 events/s, as intake waited on database locks held by
      starved line threads; the idle group measured no such loss (docs/benchmarks.md);
    - leave signals to the serving process, which stops the child through the queue once its
      own shutdown has begun (a forked child would otherwise share the serving process's signal
      wake-up socket, and Ctrl-C in a terminal reaches both)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        os.nice(nice)
    except OSError as err:  # not permitted in some containers: run at the same priority
        log.warning("could not lower the line process's priority", extra={"error": str(err)})
    if cpu_group:
        placed = place_in_background_group(os.getpid())
        if isinstance(placed, Placed):
            log.info("the line process runs in a CPU cgroup of its own",
                     extra={"cgroup": str(placed.group), "setting": placed.how})
        else:
            log.info("the line process stays in the serving process's CPU cgroup", extra={"reason": placed})
