"""The `codedeploy` target over HTTP against the sandbox (moto with opsgate's extensions)."""

from __future__ import annotations

import pytest

from opsgate.adapters.aws.codedeploy_target import CodeDeployTarget, deployment_console_url, revision_text
from opsgate.adapters.aws.target import Permission
from opsgate.errors import AutomationError
from opsgate.sandbox.moto_extensions import fail_deployments
from opsgate.sandbox.seed import CODEDEPLOY_APPLICATION, REGION, RELEASES, release_revision, seed_codedeploy
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

TARGET = CodeDeployTarget()
GROUP = {"applicationName": CODEDEPLOY_APPLICATION, "deploymentGroupName": PROD.name}
ROLLBACK = {"application": CODEDEPLOY_APPLICATION, "deployment_group": PROD.name, "operation": "rollback"}
STOP = {**ROLLBACK, "operation": "stop"}
GROUP_ARN = "arn:aws:codedeploy:eu-west-1:333333333333:deploymentgroup:web/prod"


@pytest.fixture
def clients(prod_clients):
    seed_codedeploy(prod_clients.client, PROD_ACCOUNT)  # web-1.0.0 then web-1.1.0, both Succeeded
    return prod_clients


def deploy(clients, release: str) -> str:
    return clients.client("codedeploy").create_deployment(**GROUP, revision=release_revision(release))["deploymentId"]


def info(clients, deployment_id: str) -> dict:
    return clients.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_both_operations():
    assert TARGET.validate({**ROLLBACK, "deployment_group": "{env}"}) == []
    assert TARGET.validate(STOP) == []


def test_validate_reports_each_problem():
    assert TARGET.validate({"application": "web", "operation": "redeploy", "revision": "x"}) == [
        "revision: unknown key; the codedeploy action accepts kind, application, deployment_group, operation",
        "deployment_group: is required (a deployment group name)",
        "operation: must be rollback or stop (got 'redeploy')"]
    assert TARGET.validate({"application": "web", "deployment_group": "prod"}) == ["operation: is required (rollback or stop)"]


def test_rollback_permissions_cover_reading_the_group_and_creating_a_deployment():
    wanted = TARGET.permissions({**ROLLBACK, "deployment_group": "{env}"}, PROD)
    group = "arn:aws:codedeploy:eu-west-1:333333333333:deploymentgroup:web/*"
    assert wanted == [
        Permission("codedeploy:GetDeploymentGroup", group),
        Permission("codedeploy:ListDeployments", group),
        Permission("codedeploy:BatchGetDeployments", group),
        Permission("codedeploy:GetDeployment", group),
        Permission("codedeploy:CreateDeployment", group),
        Permission("codedeploy:GetApplicationRevision", "arn:aws:codedeploy:eu-west-1:333333333333:application:web"),
        Permission("codedeploy:GetDeploymentConfig", "arn:aws:codedeploy:eu-west-1:333333333333:deploymentconfig:*"),
    ]


def test_stop_permissions_include_stopping_and_not_creating():
    actions = [p.action for p in TARGET.permissions(STOP, PROD)]
    assert "codedeploy:StopDeployment" in actions and "codedeploy:CreateDeployment" not in actions


def test_plan_lists_the_calls_and_names_the_request_in_the_description(run_ctx):
    calls = TARGET.plan(ROLLBACK, PROD, run_ctx)
    assert [c.api for c in calls] == ["codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments",
                                      "codedeploy:BatchGetDeployments", "codedeploy:CreateDeployment",
                                      "codedeploy:GetDeployment"]
    assert {c.target for c in calls} == {GROUP_ARN}
    assert calls[3].parameters["description"] == "opsgate rollback: request r-0042 by alice"
    assert [c.api for c in TARGET.plan(STOP, PROD, run_ctx)] == [
        "codedeploy:ListDeployments", "codedeploy:StopDeployment", "codedeploy:GetDeployment"]


def test_revisions_are_described_in_a_few_words():
    assert revision_text(release_revision("web-1.0.0.zip")) == "s3://acme-releases/web/web-1.0.0.zip"
    assert revision_text({"revisionType": "GitHub", "gitHubLocation": {"repository": "acme/web", "commitId": "0123456789abcdef"}}) \
        == "acme/web@0123456789ab"
    assert revision_text({"revisionType": "AppSpecContent"}) == "AppSpecContent"


# -- rollback -------------------------------------------------------------------------------------

def test_rollback_redeploys_the_revision_before_the_current_one(clients, run_ctx):
    results = drive(TARGET, clients, ROLLBACK, run_ctx)
    started, done = results[0], results[-1]
    deployment_id = started.checkpoint["deployment_id"]
    assert started.pending and started.summary.startswith(
        f"Rolling web/prod back to s3://acme-releases/web/{RELEASES[0]} (last deployed by ")
    assert started.correlation["console_url"] == deployment_console_url(REGION, deployment_id)
    assert "aws_request_id" in started.correlation
    assert progress(results) == [f"Deployment {deployment_id}: InProgress", f"Deployment {deployment_id}: Succeeded"]
    assert done.ok and done.summary == f"Deployment {deployment_id} succeeded"
    created = info(clients, deployment_id)
    assert created["revision"] == release_revision(RELEASES[0])
    assert created["description"] == "opsgate rollback: request r-0042 by alice"


def test_rollback_after_a_failed_release_redeploys_the_last_good_one(clients, run_ctx):
    fail_deployments(CODEDEPLOY_APPLICATION, PROD.name, account_id=PROD_ACCOUNT.account_id, region=REGION)
    broken = deploy(clients, "web-2.0.0.zip")  # the group's current (target) revision from now on
    assert [info(clients, broken)["status"] for _ in range(2)] == ["InProgress", "Failed"]
    started = TARGET.run(clients, ROLLBACK, run_ctx)
    assert info(clients, started.checkpoint["deployment_id"])["revision"] == release_revision(RELEASES[-1])


def test_a_rollback_deployment_that_fails_is_reported_with_its_error(clients, run_ctx):
    fail_deployments(CODEDEPLOY_APPLICATION, PROD.name, account_id=PROD_ACCOUNT.account_id, region=REGION)
    done = drive(TARGET, clients, ROLLBACK, run_ctx)[-1]
    assert not done.ok and not done.pending
    assert done.summary.startswith(f"Deployment {done.correlation['deployment_id']} failed: HEALTH_CONSTRAINTS: ")
    assert done.output["status"] == "Failed"


def test_rollback_with_no_earlier_revision_fails_clearly(prod_clients, run_ctx):
    codedeploy = prod_clients.client("codedeploy")
    codedeploy.create_application(applicationName="fresh")
    codedeploy.create_deployment_group(applicationName="fresh", deploymentGroupName="prod",
                                       serviceRoleArn="arn:aws:iam::333333333333:role/deployer")
    result = TARGET.run(prod_clients, {**ROLLBACK, "application": "fresh"}, run_ctx)
    assert not result.ok and not result.pending
    assert result.summary == ("Nothing to roll back to: fresh/prod has no successful deployment of a revision "
                              "other than the current one")


# -- stop -----------------------------------------------------------------------------------------

def test_stop_stops_the_running_deployment_and_follows_codedeploys_rollback(clients, run_ctx):
    running = deploy(clients, "web-2.0.0.zip")
    results = drive(TARGET, clients, STOP, run_ctx)
    started, done = results[0], results[-1]
    assert started.pending and started.summary.startswith(f"Stopping deployment {running} of web/prod")
    rollback_id = results[1].checkpoint["deployment_id"]
    assert rollback_id != running
    assert f"CodeDeploy is rolling back with deployment {rollback_id}" in progress(results)
    assert done.ok and done.summary == f"Deployment {rollback_id} succeeded"
    assert done.correlation["stopped_deployment_id"] == running
    assert info(clients, running)["status"] == "Stopped"
    assert info(clients, rollback_id)["revision"] == release_revision(RELEASES[-1])


def test_stop_with_nothing_running_fails_clearly(clients, run_ctx):
    result = TARGET.run(clients, STOP, run_ctx)
    assert not result.ok and result.summary == "Nothing to stop: web/prod has no deployment in progress"


def test_a_stopped_deployment_with_nothing_to_roll_back_to_is_reported(prod_clients, run_ctx):
    codedeploy = prod_clients.client("codedeploy")
    codedeploy.create_application(applicationName="fresh")
    codedeploy.create_deployment_group(applicationName="fresh", deploymentGroupName="prod",
                                       serviceRoleArn="arn:aws:iam::333333333333:role/deployer")
    codedeploy.create_deployment(applicationName="fresh", deploymentGroupName="prod", revision=release_revision("f.zip"))
    done = drive(TARGET, prod_clients, {**STOP, "application": "fresh"}, run_ctx)[-1]
    assert done.ok and done.summary.endswith(
        "was stopped; No rollback: the deployment group has no earlier successful deployment.")


def test_poll_without_a_deployment_is_an_error(clients, run_ctx):
    with pytest.raises(AutomationError, match="no deployment_id"):
        TARGET.poll(clients, ROLLBACK, run_ctx, {})


@pytest.mark.parametrize("settings", [ROLLBACK, STOP], ids=["rollback", "stop"])
def test_the_permissions_name_every_action_a_run_calls(clients, run_ctx, settings):
    deploy(clients, "web-2.0.0.zip")  # something to stop (and, for rollback, the current revision)
    called = actions_called(TARGET, clients, settings, run_ctx, "codedeploy")
    assert called <= granted_actions(TARGET, settings)
