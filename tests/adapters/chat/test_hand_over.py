"""The hand-over pipe: items arrive whole and in order, a full pipe never blocks the writer, and
what waited is written as the reader catches up."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from opsgate.adapters.chat.slack.hand_over import PIPE_BYTES, HandOver


def test_items_arrive_in_order_and_whole():
    reader, writer = multiprocessing.Pipe(duplex=False)
    pipe = HandOver(writer)
    items = [("line", n, "x" * (n * 37)) for n in range(50)] + [("big", "y" * 300_000)]  # one far over a pipe's size
    threading.Thread(target=lambda: [pipe.put(item) for item in items]).start()
    assert [reader.recv() for _ in items] == items
    pipe.close()


def test_a_full_pipe_does_not_block_and_the_backlog_drains_in_order():
    reader, writer = multiprocessing.Pipe(duplex=False)
    pipe = HandOver(writer)
    items = [("line", n, "z" * 2000) for n in range(2 * pipe.pipe_bytes // 2000)]  # twice what the pipe holds
    started = time.monotonic()
    for item in items:
        pipe.put(item)  # nobody reads yet
    assert time.monotonic() - started < 2  # never waited for the reader
    assert pipe.backlog > 0
    received = [reader.recv() for _ in items]
    assert received == items
    pipe.put(("after", 1))  # the backlog is empty again: straight into the pipe
    assert reader.recv() == ("after", 1)
    pipe.close()
    assert pipe.backlog == 0


def test_the_pipe_is_enlarged_as_far_as_the_system_allows():
    reader, writer = multiprocessing.Pipe(duplex=False)
    pipe = HandOver(writer)
    allowed = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert pipe.pipe_bytes >= min(PIPE_BYTES, allowed)  # an unprivileged process may ask for up to the limit
    pipe.close()
    reader.close()


def test_writers_on_many_threads_each_keep_their_order():
    reader, writer = multiprocessing.Pipe(duplex=False)
    pipe = HandOver(writer)

    def write(thread: int) -> None:
        for n in range(200):
            pipe.put((thread, n, "w" * 500))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    received = [reader.recv() for _ in range(800)]
    for t in threads:
        t.join()
    for thread in range(4):
        assert [n for t, n, _ in received if t == thread] == list(range(200))
    pipe.close()


def test_plain_dataclasses_arrive_equal_and_smaller():
    from opsgate.adapters.chat.slack.inbound import Delivery, Target, from_command
    from opsgate.domain.identity import Actor
    from opsgate.domain.inbound import Inbound

    delivery = from_command({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "ann",
                             "text": "deploy status web dev", "trigger_id": "1.2.3", "response_url": "https://x/r"})
    reader, writer = multiprocessing.Pipe(duplex=False)
    pipe = HandOver(writer, plain=(Delivery, Target, Inbound, Actor))
    pipe.put(("line", delivery))
    assert reader.recv() == ("line", delivery)
    pipe.close()
