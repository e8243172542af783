"""Following long-running automation: poll RUNNING requests until their automation finishes."""

from __future__ import annotations

import logging

from opsgate import log_context
from opsgate.core.lifecycle import Lifecycle
from opsgate.core.runtime import SYSTEM
from opsgate.domain.request import State

log = logging.getLogger("opsgate.follow")


class Follower:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle

    def follow_running(self, limit: int = 50) -> int:
        """Poll each running request once; finish those that are done. Returns how many finished."""
        with self.lifecycle.rt.store.transaction() as tx:
            running = tx.list_requests(states=(State.RUNNING,), limit=limit)
        finished = 0
        for record in running:
            if "checkpoint" not in record.result:
                continue  # runs synchronously in the process that started it
            with log_context.bound(request_id=record.id):
                result = self.lifecycle.execution.poll(record)
                if result.pending:
                    self.lifecycle.execution.keep_following(record, result)
                else:
                    self.lifecycle.execution.finish(record, SYSTEM, result)
                    finished += 1
        return finished
