"""The `codedeploy` target: roll a deployment group back, or stop its deployment, and follow it.

```yaml
action: {kind: codedeploy, application: web, deployment_group: "{env}", operation: rollback}
```
`rollback` redeploys the newest revision that succeeded before the group's current one (the
revision GetDeploymentGroup names as its target), as a new deployment whose description names
the opsgate request and person. `stop` stops the group's unfinished deployment with
autoRollbackEnabled, so CodeDeploy itself redeploys the last good revision; `poll` then follows
that rollback deployment to its end.
"""

from __future__ import annotations

from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.names import console_url, wildcard_placeholders
from opsgate.adapters.aws.settings_check import (
    ensure_valid,
    required_choice,
    required_text,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission, arn
from opsgate.domain.catalog import Environment
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("application", "deployment_group", "operation")
OPERATIONS = ("rollback", "stop")
UNFINISHED = ["Created", "Queued", "InProgress", "Baking", "Ready"]
BATCH = 25  # BatchGetDeployments takes at most 25 ids


def group_arn(environment: Environment, application: str, group: str) -> str:
    return arn(environment, "codedeploy", f"deploymentgroup:{application}/{group}")


def deployment_console_url(region: str, deployment_id: str) -> str:
    return console_url(region, f"codesuite/codedeploy/deployments/{deployment_id}?region={region}")


def revision_text(revision: dict[str, Any]) -> str:
    """A revision in a few words: `s3://bucket/key`, `github repo@commit` or its type."""
    if s3 := revision.get("s3Location"):
        return f"s3://{s3.get('bucket')}/{s3.get('key')}"
    if github := revision.get("gitHubLocation"):
        return f"{github.get('repository')}@{str(github.get('commitId', ''))[:12]}"
    return str(revision.get("revisionType", "a revision"))


def _group_request(settings: dict[str, Any]) -> dict[str, str]:
    return {"applicationName": settings["application"], "deploymentGroupName": settings["deployment_group"]}


def _deployment_ids(codedeploy: Any, settings: dict[str, Any], statuses: list[str]) -> list[str]:
    paginator = codedeploy.get_paginator("list_deployments")
    pages = paginator.paginate(**_group_request(settings), includeOnlyStatuses=statuses)
    return [deployment_id for page in pages for deployment_id in page.get("deployments", [])]


def _deployments(codedeploy: Any, ids: list[str]) -> list[dict[str, Any]]:
    found = []
    for start in range(0, len(ids), BATCH):
        found += codedeploy.batch_get_deployments(deploymentIds=ids[start:start + BATCH])["deploymentsInfo"]
    return found


def _describe(settings: dict[str, Any]) -> str:
    return f"{settings['application']}/{settings['deployment_group']}"


class CodeDeployTarget:
    kind: ClassVar[str] = "codedeploy"
    service: ClassVar[str] = "codedeploy"  # IAM prefix, for messages and policies

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += required_text(settings, "application", "a CodeDeploy application name")
        problems += required_text(settings, "deployment_group", "a deployment group name")
        problems += required_choice(settings, "operation", OPERATIONS)
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        application = wildcard_placeholders(str(settings.get("application", "*")))
        group = group_arn(environment, application, wildcard_placeholders(str(settings.get("deployment_group", "*"))))
        reads = [Permission(f"codedeploy:{action}", group)
                 for action in ("ListDeployments", "BatchGetDeployments", "GetDeployment")]
        if settings.get("operation") == "stop":
            return reads + [Permission("codedeploy:StopDeployment", group)]
        return [Permission("codedeploy:GetDeploymentGroup", group), *reads,
                Permission("codedeploy:CreateDeployment", group),
                # CreateDeployment also reads the revision and the deployment configuration
                Permission("codedeploy:GetApplicationRevision",
                           arn(environment, "codedeploy", f"application:{application}")),
                Permission("codedeploy:GetDeploymentConfig", arn(environment, "codedeploy", "deploymentconfig:*"))]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        group = group_arn(environment, settings["application"], settings["deployment_group"])
        request = _group_request(settings)
        follow = PlannedCall("codedeploy:GetDeployment", group, {"deploymentId": "<until it finishes>"})
        if settings["operation"] == "stop":
            return [
                PlannedCall("codedeploy:ListDeployments", group, {**request, "includeOnlyStatuses": UNFINISHED}),
                PlannedCall("codedeploy:StopDeployment", group,
                            {"deploymentId": "<the unfinished one>", "autoRollbackEnabled": True}),
                follow,
            ]
        create = {**request, "revision": "<newest succeeded revision before the current one>",
                  "description": self._description(ctx)}
        return [
            PlannedCall("codedeploy:GetDeploymentGroup", group, request),
            PlannedCall("codedeploy:ListDeployments", group, {**request, "includeOnlyStatuses": ["Succeeded"]}),
            PlannedCall("codedeploy:BatchGetDeployments", group, {"deploymentIds": "<the succeeded ones>"}),
            PlannedCall("codedeploy:CreateDeployment", group, create),
            follow,
        ]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        if settings["operation"] == "stop":
            return self._stop(clients, settings)
        return self._rollback(clients, settings, ctx)

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext,
             checkpoint: dict[str, Any]) -> RunResult:
        deployment_id = checkpoint.get("deployment_id")
        if not deployment_id:
            raise AutomationError("There is no CodeDeploy deployment to follow (the checkpoint has no deployment_id)")
        info = clients.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        status, region = info["status"], clients.environment.region
        correlation = {"deployment_id": deployment_id, "console_url": deployment_console_url(region, deployment_id)}
        progress = (f"Deployment {deployment_id}: {status}",) if status != checkpoint.get("status") else ()
        rollback_id = info.get("rollbackInfo", {}).get("rollbackDeploymentId")
        if status == "Stopped" and checkpoint.get("stopping") and rollback_id:
            # The stop worked; from here on follow the rollback CodeDeploy started.
            progress += (f"CodeDeploy is rolling back with deployment {rollback_id}",)
            checkpoint = {"deployment_id": rollback_id, "status": "", "stopped_id": deployment_id}
            correlation = {**correlation, "rollback_deployment_id": rollback_id}
            return RunResult(ok=True, pending=True, summary=f"Stopped {deployment_id}; rolling back with {rollback_id}",
                             checkpoint=checkpoint, correlation=correlation, progress=progress)
        if status in ("Succeeded", "Failed", "Stopped"):
            return self._finished(info, checkpoint, correlation, progress)
        return RunResult(ok=True, pending=True, summary=f"Deployment {deployment_id} is {status}",
                         checkpoint={**checkpoint, "status": status}, correlation=correlation, progress=progress)

    def _rollback(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        codedeploy = clients.client("codedeploy")
        group = codedeploy.get_deployment_group(**_group_request(settings))["deploymentGroupInfo"]
        current = group.get("targetRevision")  # what the group runs (or last tried to)
        succeeded = _deployments(codedeploy, _deployment_ids(codedeploy, settings, ["Succeeded"]))
        newest_first = sorted(succeeded, key=lambda d: d["createTime"], reverse=True)
        earlier = [d for d in newest_first if d.get("revision") != current]
        if not earlier:
            return RunResult(ok=False, summary=f"Nothing to roll back to: {_describe(settings)} has no successful "
                                               "deployment of a revision other than the current one")
        target = earlier[0]
        created = codedeploy.create_deployment(**_group_request(settings), revision=target["revision"],
                                               description=self._description(ctx))
        deployment_id = created["deploymentId"]
        summary = (f"Rolling {_describe(settings)} back to {revision_text(target['revision'])} "
                   f"(last deployed by {target['deploymentId']}) with deployment {deployment_id}")
        return self._pending(clients, deployment_id, summary, created, {})

    def _stop(self, clients: Clients, settings: dict[str, Any]) -> RunResult:
        codedeploy = clients.client("codedeploy")
        unfinished = _deployment_ids(codedeploy, settings, UNFINISHED)
        if not unfinished:
            return RunResult(ok=False,
                             summary=f"Nothing to stop: {_describe(settings)} has no deployment in progress")
        deployment_id = unfinished[0]  # CodeDeploy runs one deployment per group at a time
        stopped = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        summary = (f"Stopping deployment {deployment_id} of {_describe(settings)}; "
                   "CodeDeploy rolls back what it changed")
        return self._pending(clients, deployment_id, summary, stopped, {"stopping": True})

    @staticmethod
    def _pending(clients: Clients, deployment_id: str, summary: str, answer: dict[str, Any],
                 checkpoint: dict[str, Any]) -> RunResult:
        correlation = {"deployment_id": deployment_id,
                       "console_url": deployment_console_url(clients.environment.region, deployment_id)}
        request_id = answer.get("ResponseMetadata", {}).get("RequestId")
        if request_id:
            correlation["aws_request_id"] = request_id
        return RunResult(ok=True, pending=True, summary=summary, correlation=correlation,
                         checkpoint={"deployment_id": deployment_id, "status": "", **checkpoint})

    @staticmethod
    def _finished(info: dict[str, Any], checkpoint: dict[str, Any], correlation: dict[str, str],
                  progress: tuple[str, ...]) -> RunResult:
        deployment_id, status = info["deploymentId"], info["status"]
        error = info.get("errorInformation") or {}
        detail = shorten(": ".join(part for part in (error.get("code"), error.get("message")) if part), 300)
        output = {"status": status, **({"error": detail} if detail else {})}
        if checkpoint.get("stopping"):  # stopped (or finished first) with nothing to roll back to
            rollback = (info.get("rollbackInfo") or {}).get("rollbackMessage")
            ok = status == "Stopped"
            what = "was stopped" if ok else f"finished ({status}) before it could be stopped"
            summary = f"Deployment {deployment_id} {what}"
            return RunResult(ok=ok, summary=summary + (f"; {shorten(rollback, 200)}" if rollback else ""),
                             output=output, correlation=correlation, progress=progress)
        if checkpoint.get("stopped_id"):
            correlation = {**correlation, "stopped_deployment_id": checkpoint["stopped_id"]}
        if status == "Succeeded":
            return RunResult(ok=True, summary=f"Deployment {deployment_id} succeeded", output=output,
                             correlation=correlation, progress=progress)
        summary = f"Deployment {deployment_id} {status.lower()}" + (f": {detail}" if detail else "")
        return RunResult(ok=False, summary=summary, output=output, correlation=correlation, progress=progress)

    @staticmethod
    def _description(ctx: RunContext) -> str:
        return f"opsgate rollback: request {ctx.request_id} by {ctx.person_id}"
