"""ECS in the sandbox: a new task definition rolls out over reads of DescribeServices."""

from __future__ import annotations

import pytest

from opsgate.sandbox.moto_extensions import fail_rollouts
from opsgate.sandbox.seed import ECS_CLUSTER, ECS_SERVICE, REGION, TASK_FAMILY, seed_ecs
from tests.adapters.aws.sandbox_fixtures import PROD_ACCOUNT


@pytest.fixture
def ecs(prod_clients):
    seed_ecs(prod_clients.client)  # web runs web:2, settled
    return prod_clients.client("ecs")


def deployments(ecs) -> list[tuple[str, str, int, str]]:
    service = ecs.describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0]
    return [(d["status"], d["taskDefinition"].rsplit("/", 1)[-1], d["runningCount"], d["rolloutState"])
            for d in service["deployments"]]


def test_a_seeded_service_is_steady_on_its_last_revision(ecs):
    assert deployments(ecs) == [("PRIMARY", f"{TASK_FAMILY}:2", 2, "COMPLETED")]


def test_a_new_task_definition_starts_a_rollout_that_settles_over_two_reads(ecs):
    answer = ecs.update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, taskDefinition=f"{TASK_FAMILY}:1")
    assert answer["service"]["taskDefinition"].endswith(":task-definition/web:1")  # an ARN, as AWS answers
    assert [d["rolloutState"] for d in answer["service"]["deployments"]] == ["IN_PROGRESS", "COMPLETED"]
    assert deployments(ecs) == [("PRIMARY", "web:1", 2, "IN_PROGRESS"), ("ACTIVE", "web:2", 0, "COMPLETED")]
    assert deployments(ecs) == [("PRIMARY", "web:1", 2, "COMPLETED")]


def test_the_same_task_definition_starts_no_rollout(ecs):
    ecs.update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, taskDefinition=f"{TASK_FAMILY}:2")
    assert deployments(ecs) == [("PRIMARY", "web:2", 2, "COMPLETED")]


def test_force_new_deployment_starts_a_rollout_of_the_same_revision(ecs):
    ecs.update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, forceNewDeployment=True)
    assert [d[0] for d in deployments(ecs)] == ["PRIMARY", "ACTIVE"]


def test_a_marked_service_ends_its_rollout_failed(ecs):
    fail_rollouts(ECS_CLUSTER, ECS_SERVICE, account_id=PROD_ACCOUNT.account_id, region=REGION)
    ecs.update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, taskDefinition=f"{TASK_FAMILY}:1")
    service = ecs.describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0]
    primary = service["deployments"][0]
    assert primary["rolloutState"] == "FAILED"
    assert "circuit breaker" in primary["rolloutStateReason"]
    assert deployments(ecs)[0][3] == "FAILED"  # and it stays so
