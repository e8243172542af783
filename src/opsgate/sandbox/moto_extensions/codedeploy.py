"""CodeDeploy: deployments that progress, StopDeployment with rollback, a group's revisions.

moto creates deployments but leaves them `Created`. Here each GetDeployment moves a deployment one
step, Created → InProgress → Succeeded (Failed when `fail_deployments` marked its group).
StopDeployment stops an unfinished deployment; with autoRollbackEnabled it starts a rollback
deployment of the group's last successful revision, linked both ways through `rollbackInfo`.
GetDeploymentGroup fills what moto leaves empty: `targetRevision` and the last successful and last
attempted deployments. `backdate_deployments` moves deployments' times into the past (the sandbox's
release history spreads over days).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo, codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse, _deployment_group_info, _deployment_info
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult

from opsgate.sandbox.moto_extensions._common import aws_error, now, serialized

FINISHED = ("Succeeded", "Failed", "Stopped")
_NEXT = {"Created": "InProgress", "Queued": "InProgress", "Ready": "InProgress"}


class RollbackBackend(BaseBackend):
    """What moto's DeploymentInfo has no field for: rollback links, error details, failing groups."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.rollback_info: dict[str, dict[str, str]] = {}
        self.error_info: dict[str, dict[str, str]] = {}
        self.failing_groups: set[tuple[str, str]] = set()


rollback_backends = BackendDict(RollbackBackend, "codedeploy")


def fail_deployments(application: str, deployment_group: str, *, account_id: str, region: str) -> None:
    """Sandbox hook: deployments in this group fail instead of succeeding, from their next step on."""
    rollback_backends[account_id][region].failing_groups.add((application, deployment_group))


def backdate_deployments(times: dict[str, tuple[datetime, datetime]], *, account_id: str, region: str) -> None:
    """Sandbox hook: give deployments (by id) these start and completion times (aware, UTC)."""
    moto = codedeploy_backends[account_id][region]
    for deployment_id, (started, completed) in times.items():
        deployment = moto.get_deployment(deployment_id)
        deployment.create_time = started.astimezone(timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC
        deployment.start_time, deployment.complete_time = started, completed


def _backends(response: CodeDeployResponse) -> tuple[CodeDeployBackend, RollbackBackend]:
    account, region = response.current_account, response.region
    return codedeploy_backends[account][region], rollback_backends[account][region]


def _group_deployments(moto: CodeDeployBackend, application: str, group: str) -> list[DeploymentInfo]:
    """The group's deployments, oldest first (moto keeps them in creation order)."""
    return [d for d in moto.deployments.values()
            if d.application_name == application and d.deployment_group_name == group]


def _advance(deployment: DeploymentInfo, extra: RollbackBackend) -> None:
    if deployment.status in _NEXT:
        deployment.status, deployment.start_time = _NEXT[deployment.status], now()
    elif deployment.status == "InProgress":
        failing = (deployment.application_name, deployment.deployment_group_name) in extra.failing_groups
        deployment.status, deployment.complete_time = ("Failed" if failing else "Succeeded"), now()
        if failing:
            extra.error_info[deployment.deployment_id] = {
                "code": "HEALTH_CONSTRAINTS",
                "message": "The overall deployment failed because too many individual instances failed deployment "
                           "(sandbox: the deployment group was made to fail)."}


def _described(deployment: DeploymentInfo, extra: RollbackBackend) -> dict[str, Any]:
    described = _deployment_info(deployment)
    described["rollbackInfo"] = extra.rollback_info.get(deployment.deployment_id, {})
    described["errorInformation"] = extra.error_info.get(deployment.deployment_id, {})
    return described


@serialized
def get_deployment(self: CodeDeployResponse) -> ActionResult:
    moto, extra = _backends(self)
    deployment = moto.get_deployment(self._get_param("deploymentId"))
    _advance(deployment, extra)
    return ActionResult({"deploymentInfo": _described(deployment, extra)})


def batch_get_deployments(self: CodeDeployResponse) -> ActionResult:
    moto, extra = _backends(self)
    deployments = moto.batch_get_deployments(self._get_param("deploymentIds") or [])
    return ActionResult({"deploymentsInfo": [_described(d, extra) for d in deployments]})


def _summary(deployment: DeploymentInfo) -> dict[str, Any]:
    summary: dict[str, Any] = {"deploymentId": deployment.deployment_id, "status": deployment.status,
                               "createTime": deployment.create_time}
    if deployment.complete_time:
        summary["endTime"] = deployment.complete_time
    return summary


def get_deployment_group(self: CodeDeployResponse) -> ActionResult:
    moto, _ = _backends(self)
    application, name = self._get_param("applicationName"), self._get_param("deploymentGroupName")
    described = _deployment_group_info(moto.get_deployment_group(application, name))
    deployments = _group_deployments(moto, application, name)
    succeeded = [d for d in deployments if d.status == "Succeeded"]
    if deployments:
        described["lastAttemptedDeployment"] = _summary(deployments[-1])
        described["targetRevision"] = deployments[-1].revision
    if succeeded:
        described["lastSuccessfulDeployment"] = _summary(succeeded[-1])
    return ActionResult({"deploymentGroupInfo": described})


@serialized
def stop_deployment(self: CodeDeployResponse) -> ActionResult:
    moto, extra = _backends(self)
    deployment = moto.get_deployment(self._get_param("deploymentId"))
    if deployment.status in FINISHED:
        raise aws_error("DeploymentAlreadyCompletedException",
                        f"The deployment {deployment.deployment_id} has already completed ({deployment.status}).")
    deployment.status, deployment.complete_time = "Stopped", now()
    extra.error_info[deployment.deployment_id] = {"code": "MANUAL_STOP",
                                                  "message": "The deployment was stopped by a user."}
    if self._get_bool_param("autoRollbackEnabled"):
        _roll_back(moto, extra, deployment)
    return ActionResult({"status": "Succeeded", "statusMessage": f"Stopped {deployment.deployment_id}"})


def _roll_back(moto: CodeDeployBackend, extra: RollbackBackend, stopped: DeploymentInfo) -> None:
    """Redeploy the group's last revision that succeeded before `stopped`, as CodeDeploy does."""
    earlier = _group_deployments(moto, stopped.application_name, stopped.deployment_group_name)
    good = [d for d in earlier[: earlier.index(stopped)] if d.status == "Succeeded"]
    if not good:
        extra.rollback_info[stopped.deployment_id] = {
            "rollbackMessage": "No rollback: the deployment group has no earlier successful deployment."}
        return
    rollback_id = moto.create_deployment(stopped.application_name, stopped.deployment_group_name, good[-1].revision,
                                         description=f"Rollback of {stopped.deployment_id}")
    moto.deployments[rollback_id].creator = "codeDeployRollback"
    extra.rollback_info[stopped.deployment_id] = {
        "rollbackDeploymentId": rollback_id,
        "rollbackMessage": f"Rolling back to the revision of {good[-1].deployment_id} with {rollback_id}."}
    extra.rollback_info[rollback_id] = {"rollbackTriggeringDeploymentId": stopped.deployment_id}


EXTENSIONS = {
    CodeDeployResponse: {
        "get_deployment": get_deployment,
        "batch_get_deployments": batch_get_deployments,
        "get_deployment_group": get_deployment_group,
        "stop_deployment": stop_deployment,
    },
}
