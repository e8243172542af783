"""Links to the AWS console page for each kind of thing a notification is about."""

from __future__ import annotations

from urllib.parse import quote


def _console(region: str | None, service_path: str) -> str:
    # Region-less links still work: the console opens in the person's last region.
    host = f"https://{region}.console.aws.amazon.com" if region else "https://console.aws.amazon.com"
    sep = "&" if "?" in service_path else "?"
    return f"{host}/{service_path}{sep}region={region}" if region else f"{host}/{service_path}"


def cloudwatch_alarm(region: str | None, alarm_name: str) -> str:
    return _console(region, "cloudwatch/home") + f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"


def codepipeline_execution(region: str | None, pipeline: str, execution_id: str) -> str:
    path = f"codesuite/codepipeline/pipelines/{quote(pipeline, safe='')}/executions/{quote(execution_id, safe='')}/timeline"
    return _console(region, path)


def codepipeline_pipeline(region: str | None, pipeline: str) -> str:
    return _console(region, f"codesuite/codepipeline/pipelines/{quote(pipeline, safe='')}/view")


def codedeploy_deployment(region: str | None, deployment_id: str) -> str:
    return _console(region, f"codesuite/codedeploy/deployments/{quote(deployment_id, safe='')}")


def ecs_service(region: str | None, cluster: str, service: str) -> str:
    path = f"ecs/v2/clusters/{quote(cluster, safe='')}/services/{quote(service, safe='')}/deployments"
    return _console(region, path)


def health_event(event_arn: str) -> str:
    return f"https://health.aws.amazon.com/health/home#/account/event-log?eventID={quote(event_arn, safe='')}"


def guardduty_finding(region: str | None, finding_id: str) -> str:
    return _console(region, "guardduty/home") + f"#/findings?macros=current&fId={quote(finding_id, safe='')}"


def securityhub_finding(region: str | None, finding_id: str) -> str:
    search = quote(f"Id={finding_id}", safe="")
    return _console(region, "securityhub/home") + f"#/findings?search={search}"


def budget(budget_name: str) -> str:
    return f"https://console.aws.amazon.com/billing/home#/budgets/details?name={quote(budget_name, safe='')}"


def cost_anomaly(monitor_id: str, anomaly_id: str) -> str:
    return ("https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
            f"{quote(monitor_id, safe='')}/anomalies/{quote(anomaly_id, safe='')}")
