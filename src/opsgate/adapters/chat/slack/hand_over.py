"""The pipe from the serving process to its line process: a write never blocks, and in the common
case costs one pickle and one system call on the calling thread.

`multiprocessing.Queue` does the same job with a feeder thread: every `put` wakes that thread,
which pickles and writes while the event loop wants the GIL back. Measured under `opsgate serve`
that hand-over cost about 0.1 ms of CPU per acked line and doubled the ack's p99 at one client
(docs/benchmarks.md, "Slack ack"). Here the caller pickles and writes to a non-blocking pipe
itself; only when the pipe is full (the line process is behind) do frames wait in memory for a
helper thread, which writes them in order as the pipe drains. Frames are multiprocessing's own
(a 4-byte length, then the pickle), so the child reads with `Connection.recv`.

Frozen dataclasses named in `plain` are pickled as their class and field values. By default a
dataclass with slots pickles through a `__getstate__` that looks its fields up on every call,
and a slash command's `Delivery` (four such objects) cost 12 µs on the ack path instead of 5.
"""

from __future__ import annotations

import collections
import copyreg
import dataclasses
import fcntl
import io
import os
import pickle
import select
import struct
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection
from operator import attrgetter
from typing import Any

WAIT_WRITABLE_S = 1.0  # the helper thread looks again at least this often
# About 3,000 slash commands. Linux's default is 64 KiB; 1 MiB is the most an unprivileged process
# may ask for (/proc/sys/fs/pipe-max-size).
PIPE_BYTES = 1 << 20


class HandOver:
    """The writing end. Safe from any thread; items are read in the order their `put`s took the lock."""

    def __init__(self, writer: Connection, plain: Iterable[type] = ()) -> None:
        self._writer = writer  # kept open for as long as this object lives
        self._pickler = _pickler_for(plain)
        self._fd = writer.fileno()
        os.set_blocking(self._fd, False)
        self.pipe_bytes = _enlarge(self._fd)
        self._lock = threading.Lock()
        self._waiting = threading.Condition(self._lock)
        self._backlog: collections.deque[bytes] = collections.deque()  # frames (or their rest) not yet written
        self._thread: threading.Thread | None = None
        self._closed = False

    def put(self, item: Any) -> None:
        buffer = io.BytesIO()
        self._pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(item)
        data = buffer.getvalue()
        frame = struct.pack("!i", len(data)) + data
        with self._lock:
            if not self._backlog:
                written = self._write(frame)
                if written == len(frame):
                    return
                frame = frame[written:]  # the rest must go before any other frame
            self._backlog.append(frame)
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="opsgate-hand-over", daemon=True)
                self._thread.start()
            self._waiting.notify()

    @property
    def backlog(self) -> int:
        """Frames waiting for room in the pipe."""
        with self._lock:
            return len(self._backlog)

    def close(self) -> None:
        """Stop the helper thread once it has written what waits (the reader must still read)."""
        with self._lock:
            self._closed = True
            self._waiting.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self._writer.close()

    def _write(self, frame: bytes) -> int:
        try:
            return os.write(self._fd, frame)
        except BlockingIOError:  # the pipe is full
            return 0

    def _drain(self) -> None:
        while True:
            with self._lock:
                while not self._backlog and not self._closed:
                    self._waiting.wait()
                if not self._backlog:
                    self._thread = None
                    return
                frame = self._backlog[0]
                written = self._write(frame)
                if written == len(frame):
                    self._backlog.popleft()
                elif written:
                    self._backlog[0] = frame[written:]
                if written:
                    continue
            select.select([], [self._fd], [], WAIT_WRITABLE_S)  # outside the lock: puts go on meanwhile


def _enlarge(fd: int) -> int:
    """Make the pipe hold `PIPE_BYTES`, so a burst of lines waits in the kernel rather than in the
    helper thread, whose every write would take the GIL from the event loop. Returns the size
    it has (the default where the system allows no more)."""
    try:
        return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:  # above /proc/sys/fs/pipe-max-size, or over the user's pipe quota
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def _pickler_for(plain: Iterable[type]) -> type[pickle.Pickler]:
    def by_fields(cls: type) -> Any:
        values = attrgetter(*(field.name for field in dataclasses.fields(cls)))
        if len(dataclasses.fields(cls)) == 1:
            return lambda obj: (cls, (values(obj),))
        return lambda obj: (cls, values(obj))

    table = {**copyreg.dispatch_table, **{cls: by_fields(cls) for cls in plain}}
    return type("HandOverPickler", (pickle.Pickler,), {"dispatch_table": table})
