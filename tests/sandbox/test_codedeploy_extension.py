"""CodeDeploy in the sandbox: deployments progress per read, StopDeployment rolls back."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from opsgate.sandbox.moto_extensions import fail_deployments
from opsgate.sandbox.seed import CODEDEPLOY_APPLICATION, REGION, RELEASES, release_revision, seed_codedeploy
from tests.adapters.aws.sandbox_fixtures import PROD, PROD_ACCOUNT

GROUP = {"applicationName": CODEDEPLOY_APPLICATION, "deploymentGroupName": PROD.name}


@pytest.fixture
def codedeploy(prod_clients):
    seed_codedeploy(prod_clients.client, PROD_ACCOUNT)  # two releases, both Succeeded
    return prod_clients.client("codedeploy")


def deploy(codedeploy, release: str = "web-2.0.0.zip") -> str:
    return codedeploy.create_deployment(**GROUP, revision=release_revision(release))["deploymentId"]


def status(codedeploy, deployment_id: str) -> str:
    return codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]


def test_each_read_moves_a_deployment_one_step(codedeploy):
    deployment_id = deploy(codedeploy)
    assert [status(codedeploy, deployment_id) for _ in range(3)] == ["InProgress", "Succeeded", "Succeeded"]


def test_deployments_of_a_marked_group_fail_with_error_information(codedeploy):
    fail_deployments(CODEDEPLOY_APPLICATION, PROD.name, account_id=PROD_ACCOUNT.account_id, region=REGION)
    deployment_id = deploy(codedeploy)
    status(codedeploy, deployment_id)
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"


def test_the_deployment_group_names_its_current_revision_and_last_deployments(codedeploy):
    deployment_id = deploy(codedeploy)
    group = codedeploy.get_deployment_group(**GROUP)["deploymentGroupInfo"]
    assert group["targetRevision"] == release_revision("web-2.0.0.zip")
    assert group["lastAttemptedDeployment"]["deploymentId"] == deployment_id
    assert group["lastSuccessfulDeployment"]["status"] == "Succeeded"
    succeeded = codedeploy.list_deployments(**GROUP, includeOnlyStatuses=["Succeeded"])["deployments"]
    assert group["lastSuccessfulDeployment"]["deploymentId"] == succeeded[-1]


def test_stop_with_auto_rollback_redeploys_the_last_good_revision(codedeploy):
    deployment_id = deploy(codedeploy)
    status(codedeploy, deployment_id)  # InProgress
    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert answer["status"] == "Succeeded"
    stopped = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert stopped["status"] == "Stopped"
    assert stopped["errorInformation"]["code"] == "MANUAL_STOP"
    rollback_id = stopped["rollbackInfo"]["rollbackDeploymentId"]
    rollback = codedeploy.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rollback["revision"] == release_revision(RELEASES[-1])
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["rollbackInfo"] == {"rollbackTriggeringDeploymentId": deployment_id}
    assert status(codedeploy, rollback_id) == "Succeeded"


def test_stop_without_auto_rollback_only_stops(codedeploy):
    deployment_id = deploy(codedeploy)
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    stopped = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert stopped["status"] == "Stopped"
    assert stopped["rollbackInfo"] == {}


def test_stop_with_no_earlier_success_says_there_is_nothing_to_roll_back_to(prod_clients):
    codedeploy = prod_clients.client("codedeploy")
    codedeploy.create_application(applicationName="fresh")
    codedeploy.create_deployment_group(applicationName="fresh", deploymentGroupName="prod", serviceRoleArn="arn:aws:iam::333333333333:role/x")
    deployment_id = codedeploy.create_deployment(applicationName="fresh", deploymentGroupName="prod",
                                                 revision=release_revision("fresh.zip"))["deploymentId"]
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    rollback_info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["rollbackInfo"]
    assert "rollbackDeploymentId" not in rollback_info
    assert "no earlier successful deployment" in rollback_info["rollbackMessage"]


def test_a_finished_deployment_cannot_be_stopped(codedeploy):
    finished = codedeploy.list_deployments(**GROUP, includeOnlyStatuses=["Succeeded"])["deployments"][0]
    with pytest.raises(ClientError) as caught:
        codedeploy.stop_deployment(deploymentId=finished)
    assert caught.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"


def test_an_unknown_deployment_cannot_be_stopped(codedeploy):
    with pytest.raises(ClientError) as caught:
        codedeploy.stop_deployment(deploymentId="d-NOSUCH123")
    assert caught.value.response["Error"]["Code"] == "DeploymentDoesNotExistException"


def test_batch_reads_show_rollback_links_without_moving_deployments(codedeploy):
    deployment_id = deploy(codedeploy)
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    infos = codedeploy.batch_get_deployments(deploymentIds=[deployment_id])["deploymentsInfo"]
    rollback_id = infos[0]["rollbackInfo"]["rollbackDeploymentId"]
    batch = codedeploy.batch_get_deployments(deploymentIds=[rollback_id])["deploymentsInfo"]
    assert batch[0]["status"] == "Created"
