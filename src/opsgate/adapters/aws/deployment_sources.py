"""What CodePipeline, CodeDeploy and ECS say about a service's deployments, as `Deployment`s.

One reader per service. Each reads only what a deployment list needs: the recent pipeline
executions (and, while one runs, the pipeline state to see whether it waits for an approval), the
recent deployments of a CodeDeploy group, the deployments ECS keeps on a service (the one rolling
out and the ones it replaces; ECS forgets finished ones).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.codedeploy_target import BATCH, deployment_console_url, revision_text
from opsgate.adapters.aws.ecs_target import service_console_url, task_definition_name
from opsgate.adapters.aws.names import console_url
from opsgate.domain.deployment import Deployment, Phase
from opsgate.errors import AutomationError

DETAIL_CHARS = 160

_PIPELINE_PHASES = {"InProgress": Phase.RUNNING, "Stopping": Phase.RUNNING, "Succeeded": Phase.SUCCEEDED,
                    "Failed": Phase.FAILED, "Stopped": Phase.STOPPED, "Superseded": Phase.STOPPED,
                    "Cancelled": Phase.STOPPED}
_CODEDEPLOY_PHASES = {"Created": Phase.RUNNING, "Queued": Phase.RUNNING, "InProgress": Phase.RUNNING,
                      "Baking": Phase.RUNNING, "Ready": Phase.WAITING, "Succeeded": Phase.SUCCEEDED,
                      "Failed": Phase.FAILED, "Stopped": Phase.STOPPED}
_ECS_PHASES = {"IN_PROGRESS": Phase.RUNNING, "COMPLETED": Phase.SUCCEEDED, "FAILED": Phase.FAILED}
# Who CodeDeploy says created a deployment, in words (its `creator` field names no person).
_CODEDEPLOY_CREATORS = {"user": "", "autoscaling": "Auto Scaling", "codeDeployRollback": "CodeDeploy (automatic rollback)",
                        "CodeDeployAutoUpdate": "CodeDeploy (auto update)", "CloudFormation": "CloudFormation"}


def execution_console_url(region: str, pipeline: str, execution_id: str) -> str:
    return console_url(region, f"codesuite/codepipeline/pipelines/{pipeline}/executions/{execution_id}/timeline"
                               f"?region={region}")


def principal_name(arn: str) -> str:
    """Who an IAM ARN stands for: `…:assumed-role/Deployer/alice` → `alice`, `…:user/bob` → `bob`."""
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1] if "/" in resource else arn


# -- CodePipeline ----------------------------------------------------------------------------------

def pipeline_deployments(codepipeline: Any, service: str, pipeline: str, region: str, last: int) -> list[Deployment]:
    summaries = codepipeline.list_pipeline_executions(pipelineName=pipeline, maxResults=last)
    found = [_execution(service, pipeline, region, s) for s in summaries.get("pipelineExecutionSummaries", [])]
    if any(d.phase is Phase.RUNNING for d in found):
        waiting = _waiting_approvals(codepipeline.get_pipeline_state(name=pipeline))
        found = [_waits(d, waiting[d.id]) if d.id in waiting else d for d in found]
    return found


def _execution(service: str, pipeline: str, region: str, summary: dict[str, Any]) -> Deployment:
    status = summary.get("status", "")
    phase = _PIPELINE_PHASES.get(status, Phase.RUNNING)
    return Deployment(
        source="codepipeline", service=service, id=summary["pipelineExecutionId"],
        revision=_source_revision(summary.get("sourceRevisions") or []) or pipeline,
        status=status, phase=phase, started=summary.get("startTime"),
        ended=None if phase.in_flight else summary.get("lastUpdateTime"),
        started_by=_trigger(summary.get("trigger") or {}),
        console_url=execution_console_url(region, pipeline, summary["pipelineExecutionId"]),
        detail=shorten(summary.get("statusSummary") or "", DETAIL_CHARS),
    )


def _source_revision(revisions: list[dict[str, Any]]) -> str:
    first = revisions[0] if revisions else {}
    summary = str(first.get("revisionSummary") or "").strip()
    revision = str(first.get("revisionId") or "")
    if summary and not summary.startswith("{"):  # GitHub connections put a JSON document here
        return shorten(summary, 80)
    return revision[:12] if len(revision) == 40 else revision  # a commit: its short form


def _trigger(trigger: dict[str, Any]) -> str:
    kind, detail = trigger.get("triggerType", ""), str(trigger.get("triggerDetail") or "")
    if kind == "StartPipelineExecution" and detail.startswith("arn:"):
        return principal_name(detail)
    if kind in ("", "StartPipelineExecution"):
        return ""
    return f"a source change ({kind})"


def _waiting_approvals(state: dict[str, Any]) -> dict[str, str]:
    """Execution id → `stage/action` of the manual approval it waits at."""
    waiting = {}
    for stage in state.get("stageStates", []):
        execution_id = (stage.get("latestExecution") or {}).get("pipelineExecutionId")
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution") or {}
            if execution_id and latest.get("status") == "InProgress" and latest.get("token"):
                waiting[execution_id] = f"{stage['stageName']}/{action['actionName']}"
    return waiting


def _waits(deployment: Deployment, where: str) -> Deployment:
    return replace(deployment, phase=Phase.WAITING, ended=None, detail=f"waits for approval at {where}")


# -- CodeDeploy ------------------------------------------------------------------------------------

def codedeploy_deployments(codedeploy: Any, service: str, application: str, group: str, region: str,
                           last: int) -> list[Deployment]:
    ids: list[str] = []
    pages = codedeploy.get_paginator("list_deployments").paginate(applicationName=application,
                                                                  deploymentGroupName=group)
    for page in pages:  # AWS does not promise an order: read a bounded number, sort by time below
        ids += page.get("deployments", [])
        if len(ids) >= max(last, BATCH) * 4:
            break
    infos = []
    for start in range(0, len(ids), BATCH):
        infos += codedeploy.batch_get_deployments(deploymentIds=ids[start:start + BATCH])["deploymentsInfo"]
    infos.sort(key=lambda info: info["createTime"], reverse=True)
    return [_codedeploy(service, region, info) for info in infos[:last]]


def _codedeploy(service: str, region: str, info: dict[str, Any]) -> Deployment:
    status = info.get("status", "")
    error = info.get("errorInformation") or {}
    creator = info.get("creator") or ""
    return Deployment(
        source="codedeploy", service=service, id=info["deploymentId"],
        revision=revision_text(info.get("revision") or {}), status=status,
        phase=_CODEDEPLOY_PHASES.get(status, Phase.RUNNING),
        started=info.get("startTime") or info.get("createTime"), ended=info.get("completeTime"),
        started_by=_CODEDEPLOY_CREATORS.get(creator, creator),
        console_url=deployment_console_url(region, info["deploymentId"]),
        detail=shorten(error.get("message") or "", DETAIL_CHARS),
    )


# -- ECS -------------------------------------------------------------------------------------------

def ecs_deployments(ecs: Any, service: str, cluster: str, name: str, region: str) -> list[Deployment]:
    answer = ecs.describe_services(cluster=cluster, services=[name])
    found = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
    if not found:
        failures = "; ".join(f.get("reason", "") for f in answer.get("failures", []))
        because = f" ({failures})" if failures else ""
        raise AutomationError(f"ECS service {name} is not active in cluster {cluster}{because}")
    link = service_console_url(region, cluster, name)
    deployments = found[0].get("deployments", [])
    return [_ecs(service, link, d, len(deployments)) for d in deployments]


def _ecs(service: str, link: str, deployment: dict[str, Any], count: int) -> Deployment:
    rollout = deployment.get("rolloutState")
    running = f"{deployment.get('runningCount', 0)}/{deployment.get('desiredCount', 0)} tasks"
    if deployment.get("status") != "PRIMARY":
        phase, status = Phase.SUCCEEDED, f"{deployment.get('status', '')}, being replaced"
    elif rollout:
        phase, status = _ECS_PHASES.get(rollout, Phase.RUNNING), rollout
    else:  # no rollout states (older services): steady when it is alone and every task runs
        steady = count == 1 and deployment.get("runningCount") == deployment.get("desiredCount")
        phase, status = (Phase.SUCCEEDED, "steady") if steady else (Phase.RUNNING, "rolling out")
    return Deployment(
        source="ecs", service=service, id=deployment["id"],
        revision=task_definition_name(deployment.get("taskDefinition", "")), status=f"{status} ({running})",
        phase=phase, started=deployment.get("createdAt"),
        ended=deployment.get("updatedAt") if phase in (Phase.SUCCEEDED, Phase.FAILED) and rollout else None,
        console_url=link,
        detail=shorten(deployment.get("rolloutStateReason") or "", DETAIL_CHARS) if phase is Phase.FAILED else "",
    )
