"""Targets whose `run` finishes the work at once: there is never anything to poll."""

from __future__ import annotations

from typing import Any, ClassVar

from opsgate.adapters.aws.target import Clients
from opsgate.errors import AutomationError
from opsgate.ports import RunContext, RunResult


class OneShot:
    kind: ClassVar[str]

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext,
             checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError(f"`{self.kind}` actions finish at once; there is nothing to follow")
