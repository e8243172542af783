"""Deployment events: CodePipeline executions, stages and actions; CodeDeploy; ECS deployments."""

from __future__ import annotations

from opsgate.core.notifications import console_links, fields
from opsgate.core.notifications.envelope import Context, EventBridgeEvent
from opsgate.domain.alerts import DeploymentEvent, DeploymentResult, Link

R = DeploymentResult
_PIPELINE_STATES = {
    "STARTED": R.STARTED, "RESUMED": R.IN_PROGRESS, "STOPPING": R.IN_PROGRESS, "SUCCEEDED": R.SUCCEEDED,
    "FAILED": R.FAILED, "CANCELED": R.STOPPED, "STOPPED": R.STOPPED, "ABANDONED": R.STOPPED,
    "SUPERSEDED": R.SUPERSEDED,
}
_CODEDEPLOY_STATES = {
    "START": R.STARTED, "READY": R.IN_PROGRESS, "SUCCESS": R.SUCCEEDED, "FAILURE": R.FAILED, "STOP": R.STOPPED,
}
_ECS_DEPLOYMENT_EVENTS = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": R.IN_PROGRESS, "SERVICE_DEPLOYMENT_COMPLETED": R.SUCCEEDED,
    "SERVICE_DEPLOYMENT_FAILED": R.FAILED,
}


def _state(table: dict[str, DeploymentResult], value: str, field: str) -> DeploymentResult:
    result = table.get(value)
    if result is None:
        raise fields.EventError(field, f"must be one of {', '.join(table)}")
    return result


def codepipeline(event: EventBridgeEvent, ctx: Context) -> list[DeploymentEvent]:
    """`CodePipeline Pipeline|Stage|Action Execution State Change`."""
    d = event.detail
    pipeline = fields.text(d, "pipeline", "detail", limit=100)
    execution_id = fields.text(d, "execution-id", "detail", limit=128)
    result = _state(_PIPELINE_STATES, fields.text(d, "state", "detail", limit=32), "detail.state")
    stage = fields.optional_text(d, "stage", "detail", limit=100)
    action = fields.optional_text(d, "action", "detail", limit=100)
    trigger = fields.obj(d, "execution-trigger", "detail", required=False)
    outcome = fields.obj(d, "execution-result", "detail", required=False)
    action_type = fields.obj(d, "type", "detail", required=False)

    key = f"codepipeline:{event.account}:{event.region}:{pipeline}:{execution_id}"
    if action:
        kind, key, what = "pipeline_action", f"{key}:action:{stage}/{action}", f"{pipeline} › {stage} › {action}"
    elif stage:
        kind, key, what = "pipeline_stage", f"{key}:stage:{stage}", f"{pipeline} › {stage}"
    else:
        kind, what = "pipeline_execution", pipeline
    summary = fields.optional_text(outcome, "external-execution-summary", "detail.execution-result", limit=1000)
    source_action = fields.optional_text(action_type, "category", "detail.type", limit=32) == "Source"
    labels = {"pipeline": pipeline, "execution_id": execution_id, "stage": stage, "action": action,
              "trigger_type": fields.optional_text(trigger, "trigger-type", "detail.execution-trigger", limit=64)}
    links = [Link("Execution", console_links.codepipeline_execution(event.region, pipeline, execution_id))]
    external = fields.optional_text(outcome, "external-execution-url", "detail.execution-result", limit=2000)
    if external.startswith("https://"):
        links.append(Link("Details", external))
    return [DeploymentEvent(
        key=key, source="codepipeline", kind=kind, result=result,
        title=f"{what}: {result.value.replace('_', ' ')}", summary=summary,
        occurred_at=event.time, event_id=event.id,
        environment=ctx.environment(event.account, event.region), account=event.account or None,
        region=event.region or None, resource=pipeline,
        # A source action's external execution id is the commit (or object version) it fetched.
        revision=(fields.optional_text(outcome, "external-execution-id", "detail.execution-result", limit=128)
                  if source_action else None) or None,
        started_by=fields.optional_text(trigger, "trigger-detail", "detail.execution-trigger", limit=1024) or None,
        started_at=fields.timestamp(d, "start-time", "detail", required=False),
        links=tuple(links), labels=fields.non_empty(labels),
    )]


def codedeploy(event: EventBridgeEvent, ctx: Context) -> list[DeploymentEvent]:
    """`CodeDeploy Deployment State-change Notification`."""
    d = event.detail
    deployment_id = fields.text(d, "deploymentId", "detail", limit=64)
    application = fields.text(d, "application", "detail", limit=100)
    group = fields.optional_text(d, "deploymentGroup", "detail", limit=100)
    result = _state(_CODEDEPLOY_STATES, fields.text(d, "state", "detail", limit=32), "detail.state")
    region = event.region or fields.optional_text(d, "region", "detail", limit=32)
    what = f"{application}/{group}" if group else application
    return [DeploymentEvent(
        key=f"codedeploy:{event.account}:{region}:{deployment_id}", source="codedeploy", kind="deployment",
        result=result, title=f"{what} {deployment_id}: {result.value.replace('_', ' ')}", summary="",
        occurred_at=event.time, event_id=event.id, environment=ctx.environment(event.account, region),
        account=event.account or None, region=region or None, resource=what,
        links=(Link("Deployment", console_links.codedeploy_deployment(region, deployment_id)),),
        labels=fields.non_empty({"application": application, "deployment_group": group,
                                  "deployment_id": deployment_id}),
    )]


def ecs_deployment(event: EventBridgeEvent, ctx: Context) -> list[DeploymentEvent]:
    """`ECS Deployment State Change`."""
    d = event.detail
    name = fields.text(d, "eventName", "detail", limit=64)
    result = _state(_ECS_DEPLOYMENT_EVENTS, name, "detail.eventName")
    deployment_id = fields.text(d, "deploymentId", "detail", limit=128)
    cluster, service = ecs_service_name(event.resources)
    return [DeploymentEvent(
        key=f"ecs:{event.account}:{event.region}:{cluster}/{service}:{deployment_id}", source="ecs",
        kind="service_deployment", result=result,
        title=f"{cluster}/{service} deployment: {result.value.replace('_', ' ')}",
        summary=fields.optional_text(d, "reason", "detail", limit=1000),
        occurred_at=fields.timestamp(d, "updatedAt", "detail", required=False) or event.time, event_id=event.id,
        environment=ctx.environment(event.account, event.region), account=event.account or None,
        region=event.region or None, resource=f"{cluster}/{service}",
        links=(Link("Service", console_links.ecs_service(event.region, cluster, service)),),
        labels={"cluster": cluster, "service": service, "deployment_id": deployment_id,
                "event_type": fields.optional_text(d, "eventType", "detail", limit=16)},
    )]


def ecs_service_name(resources: tuple[str, ...]) -> tuple[str, str]:
    """(cluster, service) from `arn:aws:ecs:region:acct:service/cluster/service` in `resources`."""
    for arn in resources:
        resource = arn.split(":", 5)[-1]
        parts = resource.split("/")
        if parts[0] == "service" and len(parts) == 3 and all(parts[1:]):
            return parts[1], parts[2]
        if parts[0] == "service" and len(parts) == 2 and parts[1]:  # old ARN format: no cluster
            return "default", parts[1]
    raise fields.EventError("resources", "must name the ECS service (arn:aws:ecs:...:service/cluster/name)")
