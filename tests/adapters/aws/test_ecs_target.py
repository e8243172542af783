"""The `ecs` target over HTTP against the sandbox (moto with opsgate's extensions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opsgate.adapters.aws.ecs_target import EcsTarget, previous_revision, rollout, service_console_url
from opsgate.adapters.aws.target import Permission
from opsgate.errors import AutomationError
from opsgate.sandbox.moto_extensions import fail_rollouts
from opsgate.sandbox.seed import ECS_CLUSTER, ECS_SERVICE, REGION, TASK_FAMILY, seed_ecs
from tests.adapters.aws.sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROD,
    PROD_ACCOUNT,
    actions_called,
    drive,
    granted_actions,
    prod_clients,
    progress,
    run_ctx,
    sandbox_endpoint,
)

TARGET = EcsTarget()
ROLLBACK = {"cluster": ECS_CLUSTER, "service": ECS_SERVICE, "operation": "rollback"}
TASK_DEFINITIONS = "arn:aws:ecs:eu-west-1:333333333333:task-definition/"


@pytest.fixture
def clients(prod_clients):
    seed_ecs(prod_clients.client)  # web runs web:2 (steady); web:1 was registered before
    return prod_clients


def running(clients) -> str:
    service = clients.client("ecs").describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0]
    return service["taskDefinition"].rsplit("/", 1)[-1]


def register(clients, family: str = TASK_FAMILY) -> str:
    answer = clients.client("ecs").register_task_definition(
        family=family, containerDefinitions=[{"name": "web", "image": "acme/web:next", "memory": 256}])
    return answer["taskDefinition"]["taskDefinitionArn"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


# -- validate, permissions, plan, pure helpers ----------------------------------------------------

def test_validate_accepts_a_complete_action():
    assert TARGET.validate({**ROLLBACK, "service": "{service}", "timeout": "20m"}) == []


def test_validate_reports_each_problem():
    assert TARGET.validate({"service": "web", "operation": "restart", "timeout": "later", "image": "x"}) == [
        "image: unknown key; the ecs action accepts kind, cluster, service, operation, timeout",
        "cluster: is required (an ECS cluster name)",
        "operation: must be rollback (got 'restart')",
        "timeout: must be a duration: a number of seconds or parts like 90s, 15m, 2h, 1h30m, 7d"]


def test_permissions_name_the_service_with_placeholders_as_wildcards():
    service = "arn:aws:ecs:eu-west-1:333333333333:service/acme/*"
    assert TARGET.permissions({**ROLLBACK, "service": "{service}"}, PROD) == [
        Permission("ecs:DescribeServices", service),
        Permission("ecs:ListTaskDefinitions", "*"),
        Permission("ecs:UpdateService", service),
    ]


def test_plan_lists_the_calls_run_and_poll_make(run_ctx):
    calls = TARGET.plan(ROLLBACK, PROD, run_ctx)
    assert [c.api for c in calls] == ["ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:UpdateService",
                                      "ecs:DescribeServices"]
    assert calls[2].parameters == {"cluster": ECS_CLUSTER, "service": ECS_SERVICE, "taskDefinition": "<previous revision>"}


def test_the_previous_revision_is_the_newest_older_one_of_the_same_family():
    arns = [f"{TASK_DEFINITIONS}{name}" for name in ("web:3", "web:1", "web-worker:6", "web:5")]
    assert previous_revision(f"{TASK_DEFINITIONS}web:6", arns) == f"{TASK_DEFINITIONS}web:5"
    assert previous_revision(f"{TASK_DEFINITIONS}web:5", arns) == f"{TASK_DEFINITIONS}web:3"
    assert previous_revision(f"{TASK_DEFINITIONS}web:1", arns) is None


def test_steady_needs_a_completed_rollout_or_one_full_deployment_without_rollout_states():
    assert rollout({"deployments": [{"status": "PRIMARY", "rolloutState": "COMPLETED"}]})[1]
    assert not rollout({"deployments": [{"status": "PRIMARY", "rolloutState": "IN_PROGRESS"}]})[1]
    full = {"status": "PRIMARY", "runningCount": 2, "desiredCount": 2}
    assert rollout({"deployments": [full]})[1]
    assert not rollout({"deployments": [full, {"status": "ACTIVE"}]})[1]


# -- run and poll against the sandbox -------------------------------------------------------------

def test_rollback_moves_the_service_to_the_previous_revision_and_waits_until_steady(clients, run_ctx):
    results = drive(TARGET, clients, ROLLBACK, run_ctx)
    started, done = results[0], results[-1]
    assert started.pending and started.summary == "Rolling web back from web:2 to web:1"
    assert started.checkpoint["task_definition"] == f"{TASK_DEFINITIONS}web:1"
    assert started.correlation["console_url"] == service_console_url(REGION, ECS_CLUSTER, ECS_SERVICE)
    assert {"aws_request_id", "ecs_deployment_id"} <= set(started.correlation)
    assert progress(results) == ["web:1: 2/2 tasks running"]
    assert done.ok and not done.pending and done.summary == "web is steady on web:1 (2 tasks)"
    assert running(clients) == "web:1"


def test_deregistered_revisions_are_skipped(clients, run_ctx):
    register(clients)  # web:3
    clients.client("ecs").update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, taskDefinition="web:3")
    clients.client("ecs").deregister_task_definition(taskDefinition="web:2")
    started = TARGET.run(clients, ROLLBACK, run_ctx)
    assert started.summary == "Rolling web back from web:3 to web:1"


def test_a_rollout_the_circuit_breaker_stops_is_reported_failed(clients, run_ctx):
    fail_rollouts(ECS_CLUSTER, ECS_SERVICE, account_id=PROD_ACCOUNT.account_id, region=REGION)
    done = drive(TARGET, clients, ROLLBACK, run_ctx)[-1]
    assert not done.ok and not done.pending
    assert done.summary.startswith("Rollback of web to web:1 failed: ECS deployment circuit breaker")


def test_a_service_with_no_earlier_revision_fails_clearly(prod_clients, run_ctx):
    ecs = prod_clients.client("ecs")
    ecs.create_cluster(clusterName=ECS_CLUSTER)
    ecs.register_task_definition(family="api", containerDefinitions=[{"name": "api", "image": "acme/api", "memory": 256}])
    ecs.create_service(cluster=ECS_CLUSTER, serviceName="api", taskDefinition="api:1", desiredCount=1)
    result = TARGET.run(prod_clients, {**ROLLBACK, "service": "api"}, run_ctx)
    assert not result.ok and not result.pending
    assert result.summary == "Nothing to roll back to: api runs api:1 and its family has no earlier ACTIVE revision"


def test_an_unknown_service_is_reported(clients, run_ctx):
    with pytest.raises(AutomationError, match="ECS service nope was not found"):
        TARGET.run(clients, {**ROLLBACK, "service": "nope"}, run_ctx)


def test_another_deployment_replacing_the_rollback_is_reported(clients, run_ctx):
    started = TARGET.run(clients, ROLLBACK, run_ctx)
    clients.client("ecs").update_service(cluster=ECS_CLUSTER, service=ECS_SERVICE, taskDefinition="web:2")
    result = TARGET.poll(clients, ROLLBACK, run_ctx, started.checkpoint)
    assert not result.ok and result.summary == "Another deployment replaced the rollback of web: it now rolls out web:2"


def test_a_rollout_not_steady_by_the_timeout_is_left_to_ecs(clients, run_ctx):
    clock = Clock()
    target = EcsTarget(now=clock)
    settings = {**ROLLBACK, "timeout": "5m"}
    started = target.run(clients, settings, run_ctx)
    clock.now += timedelta(minutes=6)
    late = target.poll(clients, settings, run_ctx, started.checkpoint)
    assert not late.ok and not late.pending
    assert late.summary.startswith("web is not steady on web:1 after 5m; opsgate stopped following it")


def test_poll_without_a_rollout_is_an_error(clients, run_ctx):
    with pytest.raises(AutomationError, match="no task_definition"):
        TARGET.poll(clients, ROLLBACK, run_ctx, {})


def test_the_permissions_name_every_action_a_run_calls(clients, run_ctx):
    called = actions_called(TARGET, clients, ROLLBACK, run_ctx, "ecs")
    assert called == {"ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:UpdateService"}
    assert called <= granted_actions(TARGET, ROLLBACK)
