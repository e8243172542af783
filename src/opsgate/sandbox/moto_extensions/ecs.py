"""ECS: service deployments that roll out and settle.

moto changes a service's task definition on UpdateService but leaves `deployments[]` as it was.
Here a new task definition (or forceNewDeployment) starts a new PRIMARY deployment, IN_PROGRESS
with no tasks running, and turns the old one ACTIVE. Each DescribeServices moves a rollout one
step: first the new tasks run, then the rollout is COMPLETED and the old deployment is gone. A
service in a group marked by `fail_rollouts` ends FAILED instead, as the deployment circuit breaker
reports it. New services settle the same way. `backdate_rollout` moves a service's current
deployment into the past (the sandbox's history spreads over days).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.ecs.models import EC2ContainerServiceBackend, Service, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from opsgate.sandbox.moto_extensions._common import now, serialized


class RolloutBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.failing_services: set[tuple[str, str]] = set()  # (cluster name, service name)


rollout_backends = BackendDict(RolloutBackend, "ecs")

_moto_update_service = EC2ContainerServiceResponse.update_service
_moto_describe_services = EC2ContainerServiceResponse.describe_services


def fail_rollouts(cluster: str, service: str, *, account_id: str, region: str) -> None:
    """Sandbox hook: rollouts of this service end FAILED (tasks never become healthy)."""
    rollout_backends[account_id][region].failing_services.add((cluster, service))


def backdate_rollout(cluster: str, service: str, started: datetime, finished: datetime, *, account_id: str,
                    region: str) -> None:
    """Sandbox hook: the service's PRIMARY deployment started and last changed at these times."""
    found = _services(ecs_backends[account_id][region], cluster, [service])[0]
    primary = next(d for d in found.deployments if d["status"] == "PRIMARY")
    primary.update(createdAt=started, updatedAt=finished)


def _new_deployment(service: Service) -> dict[str, Any]:
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    return {
        "id": deployment_id, "status": "PRIMARY", "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count, "pendingCount": service.desired_count, "runningCount": 0,
        "failedTasks": 0, "createdAt": now(), "updatedAt": now(), "launchType": service.launch_type,
        "rolloutState": "IN_PROGRESS", "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }


def _step(service: Service, failing: bool) -> None:
    """Move the PRIMARY deployment's rollout one step."""
    primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
    if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
        return
    primary["updatedAt"] = now()
    if failing:
        primary.update(rolloutState="FAILED", failedTasks=primary["desiredCount"], pendingCount=0,
                       rolloutStateReason="ECS deployment circuit breaker: tasks failed to start. (sandbox)")
    elif primary["runningCount"] < primary["desiredCount"]:
        primary.update(runningCount=primary["desiredCount"], pendingCount=0)
        for old in service.deployments:
            if old is not primary:
                old.update(runningCount=0, desiredCount=0, updatedAt=now())
    else:
        primary.update(rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        service.deployments = [primary]
        service.running_count, service.pending_count = primary["runningCount"], 0


def _services(moto: EC2ContainerServiceBackend, cluster: str, names: list[str]) -> list[Service]:
    return moto.describe_services(cluster, names)[0]


@serialized
def update_service(self: EC2ContainerServiceResponse) -> Any:
    moto = ecs_backends[self.current_account][self.region]
    cluster, name = self._get_param("cluster", "default"), self._get_param("service")
    before = next(iter(_services(moto, cluster, [name])), None)
    old_definition = before.task_definition if before else None
    result = _moto_update_service(self)
    service = _services(moto, cluster, [name])[0]
    if service.task_definition:  # moto keeps what the caller sent ("web:1"); AWS answers with the ARN
        service.task_definition = moto.describe_task_definition(service.task_definition).arn
    if service.task_definition != old_definition or self._get_param("forceNewDeployment"):
        for deployment in service.deployments:
            deployment["status"] = "ACTIVE"
        service.deployments = [_new_deployment(service)] + service.deployments
    return result  # serialized after this returns, so it shows the new deployments


@serialized
def describe_services(self: EC2ContainerServiceResponse) -> Any:
    moto = ecs_backends[self.current_account][self.region]
    failing = rollout_backends[self.current_account][self.region].failing_services
    for service in _services(moto, self._get_param("cluster", "default"), self._get_param("services", [])):
        _step(service, (service.cluster_name, service.name) in failing)
    return _moto_describe_services(self)


EXTENSIONS = {
    EC2ContainerServiceResponse: {
        "update_service": update_service,
        "describe_services": describe_services,
    },
}
