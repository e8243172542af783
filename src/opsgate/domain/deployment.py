"""One deployment as opsgate shows it, whatever recorded it: a CodePipeline execution, a CodeDeploy
deployment, an ECS service deployment, or an opsgate request of a deploy or rollback command.

The AWS side turns what each service says into this shape; the core merges them with opsgate's own
requests into one time-ordered list. `to_dict`/`from_dict` keep it JSON (it travels in a
RunResult's output and is stored with the request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from opsgate.domain.templates import PLACEHOLDER
from opsgate.errors import AutomationError


class Phase(str, Enum):
    """Where a deployment is, in one vocabulary for every source."""

    WAITING = "waiting"  # for an approval (pipeline manual approval, opsgate request)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"  # stopped, superseded, cancelled, denied, expired: ended without its change

    @property
    def in_flight(self) -> bool:
        return self in (Phase.WAITING, Phase.RUNNING)


SOURCES = ("codepipeline", "codedeploy", "ecs", "opsgate")


@dataclass(frozen=True, slots=True)
class Deployment:
    source: str  # one of SOURCES
    service: str  # the catalog's name for it ("web")
    id: str  # execution id, deployment id, ECS deployment id, request id
    revision: str  # what it deploys: a source revision, an S3 key, a task definition, a command line
    status: str  # as the source says it ("InProgress", "COMPLETED", "awaiting approval")
    phase: Phase
    started: datetime | None = None
    ended: datetime | None = None
    started_by: str = ""  # a person, or the principal/trigger AWS names
    console_url: str = ""
    request_id: str | None = None  # the opsgate request that started it, when one did
    detail: str = ""  # a short reason (failure message, rollout reason)

    def with_request(self, request_id: str, started_by: str) -> Deployment:
        return replace(self, request_id=request_id, started_by=started_by)

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["phase"] = self.phase.value
        values["started"] = self.started.isoformat() if self.started else None
        values["ended"] = self.ended.isoformat() if self.ended else None
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Deployment:
        return cls(**{**values, "phase": Phase(values["phase"]),
                      "started": _time(values.get("started")), "ended": _time(values.get("ended"))})


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def chosen_services(settings: Mapping[str, Any]) -> list[str]:
    """The services a `deployments` action reads: the one its `service` setting names, or every
    one when that is empty or still a placeholder (the person gave no service)."""
    services = settings["services"]
    wanted = str(settings.get("service") or "").strip()
    if not wanted or PLACEHOLDER.fullmatch(wanted):
        return list(services)
    if wanted not in services:
        raise AutomationError(f"There is no service {wanted!r} here; the services are {', '.join(services)}")
    return [wanted]
