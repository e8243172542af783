"""The example world: the AWS resources `examples/opsgate.yaml` talks about, in each example account.

Every name a catalog may refer to is a constant here. `seed()` works through the AWS APIs only
(against a moto server, or in-process under `mock_aws` with `endpoint_url=None`), as an operator
would: it assumes each account's admin role, creates the opsgate roles the catalog names, and
builds the same resources in dev, staging and prod. Long-running things are left where a demo
wants them: the `web-release` pipeline waits at its prod approval, the `web` service runs `web:2`
with `web:1` to roll back to, CodeDeploy has two successful releases, some alarms are in ALARM.
Releases have a history spread over the last days (who started each pipeline execution, which
were approved or rejected), and each account has a monthly cost budget.
"""

from __future__ import annotations

import functools
import io
import json
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config

from opsgate.sandbox.moto_extensions.ce import set_forecast
from opsgate.sandbox.moto_extensions.codedeploy import backdate_deployments
from opsgate.sandbox.moto_extensions.codepipeline import backdate_executions
from opsgate.sandbox.moto_extensions.ecs import backdate_rollout

REGION = "eu-west-1"


@dataclass(frozen=True)
class Account:
    environment: str
    account_id: str
    opsgate_role: str | None  # the role opsgate assumes there (examples/opsgate.yaml role_arn)

    @property
    def opsgate_role_arn(self) -> str | None:
        return self.opsgate_role and f"arn:aws:iam::{self.account_id}:role/{self.opsgate_role}"


ACCOUNTS = (
    Account("dev", "111111111111", None),
    Account("staging", "222222222222", "opsgate-staging"),
    Account("prod", "333333333333", "opsgate-prod"),
)

ADMIN_ROLE = "OrganizationAccountAccessRole"  # how the seeder (an operator) gets into each account
SANDBOX_USER = "opsgate-sandbox"  # dev has no role_arn: opsgate's own credentials are this user's

FUNCTIONS = ("deploy-info", "cache-flush", "ack-alert", "rotate-secret")  # echo their payload (moto without Docker)
APPROVAL_QUEUE = "opsgate-approvals"  # SQS: workflow approval steps and pipeline approvals land here
APPROVAL_TOPIC = "opsgate-approvals"  # SNS → APPROVAL_QUEUE: CodePipeline's approval notifications
ROLLBACK_STATE_MACHINE = "rollback"
ROLLBACK_APPROVAL_STEP = "approve-rollback"
ALARMS = ("web-5xx-high", "api-latency-p99", "worker-queue-depth", "web-cpu-high")
ALARMING = {"prod": ("web-5xx-high", "api-latency-p99"), "staging": ("worker-queue-depth",)}
ECS_CLUSTER, ECS_SERVICE, TASK_FAMILY = "acme", "web", "web"
TASK_REVISIONS = 2  # web:1 then web:2; the service runs the last
CODEDEPLOY_APPLICATION = "web"  # its deployment group is named after the environment
RELEASES = ("web-1.0.0.zip", "web-1.1.0.zip")  # deployed in this order, both Succeeded
RELEASE_BUCKET = "acme-releases"
SSM_DOCUMENT = "acme-restart-service"
SSM_STEPS = ("DrainConnections", "RestartTasks", "VerifyHealth")
PIPELINE, PIPELINE_ENVIRONMENT = "web-release", "prod"
APPROVAL_STAGE, APPROVAL_ACTION = "Approve", "ProdApproval"
PIPELINE_STAGES = ("Source", "Build", APPROVAL_STAGE, "Deploy")
# The pipeline's past executions (source key, who started it, days ago, the approval's answer); the
# newest, CURRENT_RELEASE, waits at the prod approval now. Other accounts' pipelines have no
# approval: their one execution ran through.
RELEASE_HISTORY = (("web/web-1.0.0.zip", "alice", 6, "Approved"), ("web/web-1.1.0.zip", "bob", 4, "Approved"),
                   ("web/web-1.2.0.zip", "alice", 2, "Rejected"))
CURRENT_RELEASE = ("web/web-1.3.0.zip", "alice")
RELEASE_DAYS_AGO = (6, 4)  # when RELEASES were deployed (CodeDeploy) and web:2 rolled out (4 days ago)
MONTH_TO_DATE_USD = {"dev": "412.37", "staging": "1288.90", "prod": "9731.15"}
BUDGET_USD = {"dev": "600.00", "staging": "1500.00", "prod": "11000.00"}  # monthly cost budgets
COST_BY_SERVICE = {"Amazon Elastic Container Service": 0.46, "Amazon Relational Database Service": 0.31,
                   "Amazon CloudWatch": 0.08, "AWS Lambda": 0.05, "Other": 0.10}  # shares of the total

_TRUST = {  # sandbox roles trust any principal; moto does not evaluate policies anyway
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                   "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}],
}
_SERVICE_ROLES = {  # role name → the service that assumes it (Lambda and CodePipeline check the role)
    "sandbox-lambda": "lambda.amazonaws.com",
    "sandbox-states": "states.amazonaws.com",
    "sandbox-codepipeline": "codepipeline.amazonaws.com",
    "sandbox-codedeploy": "codedeploy.amazonaws.com",
}

Client = Callable[[str], Any]  # service name → boto3 client in one account (EnvironmentClients.client fits)


def account(environment: str) -> Account:
    return next(a for a in ACCOUNTS if a.environment == environment)


@dataclass(frozen=True)
class Seeded:
    """What a caller needs afterwards: credentials that act in dev (the account without a role)."""

    access_key_id: str
    secret_access_key: str


def seed(endpoint_url: str | None) -> Seeded:
    """Create the example resources in every example account; `None` seeds an active `mock_aws`."""
    base = boto3.session.Session(aws_access_key_id="sandbox-seeder", aws_secret_access_key="sandbox-seeder",
                                 region_name=REGION)
    credentials = None
    for each in ACCOUNTS:
        client = _AccountClients(base, each, endpoint_url)
        seed_account(client, each)
        if each.opsgate_role is None:
            credentials = sandbox_user_key(client)
        _queue_costs(endpoint_url, each)
    assert credentials is not None, "one example account has no opsgate role"
    return credentials


def seed_account(client: Client, account: Account) -> None:
    """Everything of one account. The seed_* parts also serve tests that need only one service."""
    seed_iam(client, account)
    seed_lambda(client, account)
    queue_url, topic_arn = seed_approval_queue(client)
    seed_state_machine(client, account, queue_url)
    seed_alarms(client, account)
    seed_ecs(client, account)
    seed_codedeploy(client, account)
    seed_ssm_document(client)
    if account.environment == PIPELINE_ENVIRONMENT:
        seed_pipeline(client, account, topic_arn)
    else:
        seed_pipeline(client, account, None)
    seed_budget(client, account)


class _AccountClients:
    """Clients acting in one account. They all come from one boto3 session, so the service models
    are loaded once for every account (it halves the sandbox's start time)."""

    def __init__(self, base: boto3.session.Session, account: Account, endpoint_url: str | None) -> None:
        sts = base.client("sts", endpoint_url=endpoint_url)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account.account_id}:role/{ADMIN_ROLE}",
                                RoleSessionName="opsgate-sandbox-seed")["Credentials"]
        self._credentials = {"aws_access_key_id": creds["AccessKeyId"],
                             "aws_secret_access_key": creds["SecretAccessKey"],
                             "aws_session_token": creds["SessionToken"]}
        self._base, self._endpoint_url, self._clients = base, endpoint_url, {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._base.client(service, endpoint_url=self._endpoint_url,
                                                       config=Config(retries={"max_attempts": 1}), **self._credentials)
        return self._clients[service]


def _role_arn(account: Account, name: str) -> str:
    return f"arn:aws:iam::{account.account_id}:role/{name}"


def seed_iam(client: Client, account: Account) -> None:
    iam = client("iam")
    for name in filter(None, (ADMIN_ROLE, account.opsgate_role)):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_TRUST))
    for name, principal in _SERVICE_ROLES.items():
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))


def sandbox_user_key(client: Client) -> Seeded:
    # moto maps an access key to the account whose IAM holds it: this key's calls land in dev.
    iam = client("iam")
    iam.create_user(UserName=SANDBOX_USER)
    key = iam.create_access_key(UserName=SANDBOX_USER)["AccessKey"]
    return Seeded(key["AccessKeyId"], key["SecretAccessKey"])


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def seed_lambda(client: Client, account: Account) -> None:
    code = _function_zip()
    for name in FUNCTIONS:
        client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Handler="index.handler", Code={"ZipFile": code},
            Role=_role_arn(account, "sandbox-lambda"), Description=f"acme {name} (sandbox: echoes its payload)")


def seed_approval_queue(client: Client) -> tuple[str, str]:
    sqs, sns = client("sqs"), client("sns")
    queue_url = sqs.create_queue(QueueName=APPROVAL_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = sns.create_topic(Name=APPROVAL_TOPIC)["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url, topic_arn


def rollback_definition(queue_url: str) -> dict[str, Any]:
    """Ask for an approval through the queue (the task token waits there), then roll back."""
    return {
        "Comment": "Roll a service back after an approval in opsgate",
        "StartAt": "ApproveRollback",
        "States": {
            "ApproveRollback": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {
                    "taskToken.$": "$$.Task.Token",
                    "request_id.$": "$.request_id",
                    "step": ROLLBACK_APPROVAL_STEP,
                    "summary": "Roll the service back to its previous release?",
                }},
                "TimeoutSeconds": 3600,
                "Next": "Rollback",
            },
            "Rollback": {"Type": "Pass", "Result": {"rolled_back": True}, "ResultPath": "$.rollback", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def seed_state_machine(client: Client, account: Account, queue_url: str) -> None:
    client("stepfunctions").create_state_machine(
        name=ROLLBACK_STATE_MACHINE, definition=json.dumps(rollback_definition(queue_url)),
        roleArn=_role_arn(account, "sandbox-states"), type="STANDARD")


def seed_alarms(client: Client, account: Account) -> None:
    cloudwatch = client("cloudwatch")
    for name in ALARMS:
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="acme", MetricName=name, Statistic="Average", Period=60,
            EvaluationPeriods=3, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[], AlarmDescription=f"acme {name} in {account.environment}")
        if name in ALARMING.get(account.environment, ()):
            reason = "Threshold Crossed: 3 datapoints were greater than the threshold (1.0)."
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason)


def days_ago(days: int, minutes: int = 0) -> datetime:
    """10:00 UTC `days` days ago, plus `minutes`: when the sandbox's history happened."""
    today = datetime.now(timezone.utc).replace(hour=10, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days) + timedelta(minutes=minutes)


def seed_ecs(client: Client, account: Account | None = None) -> None:
    """`account`: also date the service's roll-out back to RELEASE_DAYS_AGO[-1] (in-process sandbox)."""
    ecs = client("ecs")
    ecs.create_cluster(clusterName=ECS_CLUSTER)
    for revision in range(1, TASK_REVISIONS + 1):
        ecs.register_task_definition(family=TASK_FAMILY, containerDefinitions=[
            {"name": "web", "image": f"acme/web:1.{revision - 1}.0", "memory": 512, "essential": True}])
    ecs.create_service(cluster=ECS_CLUSTER, serviceName=ECS_SERVICE, taskDefinition=f"{TASK_FAMILY}:{TASK_REVISIONS}",
                       desiredCount=2)
    _settle(lambda: ecs.describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0]
            ["deployments"][0]["rolloutState"] == "COMPLETED")
    if account is not None:
        backdate_rollout(ECS_CLUSTER, ECS_SERVICE, days_ago(RELEASE_DAYS_AGO[-1], 20),
                         days_ago(RELEASE_DAYS_AGO[-1], 27), account_id=account.account_id, region=REGION)


def seed_codedeploy(client: Client, account: Account) -> None:
    codedeploy = client("codedeploy")
    codedeploy.create_application(applicationName=CODEDEPLOY_APPLICATION, computePlatform="Server")
    codedeploy.create_deployment_group(
        applicationName=CODEDEPLOY_APPLICATION, deploymentGroupName=account.environment,
        serviceRoleArn=_role_arn(account, "sandbox-codedeploy"),
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
    deployed = {}
    for release, days in zip(RELEASES, RELEASE_DAYS_AGO):
        deployment_id = codedeploy.create_deployment(
            applicationName=CODEDEPLOY_APPLICATION, deploymentGroupName=account.environment,
            revision=release_revision(release), description=f"release {release}")["deploymentId"]
        _settle(lambda: codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
                == "Succeeded")
        deployed[deployment_id] = (days_ago(days, 15), days_ago(days, 21))
    backdate_deployments(deployed, account_id=account.account_id, region=REGION)


def release_revision(release: str) -> dict[str, Any]:
    return {"revisionType": "S3",
            "s3Location": {"bucket": RELEASE_BUCKET, "key": f"web/{release}", "bundleType": "zip"}}


def seed_ssm_document(client: Client) -> None:
    content = {
        "schemaVersion": "0.3",
        "description": "Restart an acme service's tasks one at a time",
        "parameters": {"Service": {"type": "String"}, "Reason": {"type": "String", "default": ""}},
        "mainSteps": [{"name": step, "action": "aws:sleep", "inputs": {"Duration": "PT1S"}} for step in SSM_STEPS],
    }
    client("ssm").create_document(Name=SSM_DOCUMENT, Content=json.dumps(content), DocumentType="Automation",
                                   DocumentFormat="JSON")


def _pipeline_stages(account: Account, topic_arn: str | None) -> list[dict[str, Any]]:
    """Source, Build, (with a topic: the prod approval,) Deploy."""
    def action(name: str, category: str, provider: str, owner: str = "AWS", **configuration: str) -> dict[str, Any]:
        kind = {"category": category, "owner": owner, "provider": provider, "version": "1"}
        return {"name": name, "actionTypeId": kind, "configuration": configuration}

    stages = {
        "Source": action("Source", "Source", "S3", S3Bucket=RELEASE_BUCKET, S3ObjectKey="web/latest.zip"),
        "Build": action("Build", "Build", "CodeBuild", ProjectName="web-build"),
        APPROVAL_STAGE: action(APPROVAL_ACTION, "Approval", "Manual", NotificationArn=topic_arn or "",
                               CustomData="Release web to prod?"),
        "Deploy": action("Deploy", "Deploy", "CodeDeploy", ApplicationName=CODEDEPLOY_APPLICATION,
                         DeploymentGroupName=account.environment),
    }
    names = PIPELINE_STAGES if topic_arn else tuple(n for n in PIPELINE_STAGES if n != APPROVAL_STAGE)
    return [{"name": name, "actions": [stages[name]]} for name in names]


def seed_pipeline(client: Client, account: Account, topic_arn: str | None) -> None:
    """The `web-release` pipeline. With the approval topic (prod): its history (RELEASE_HISTORY,
    each approved or rejected), then CURRENT_RELEASE waiting at the approval. Without: one
    execution that ran through, four days ago."""
    client("codepipeline").create_pipeline(pipeline={
        "name": PIPELINE, "roleArn": _role_arn(account, "sandbox-codepipeline"),
        "artifactStore": {"type": "S3", "location": RELEASE_BUCKET}, "stages": _pipeline_stages(account, topic_arn),
    })
    if topic_arn is None:
        execution_id = _start_release(client, account, "bob", f"web/{RELEASES[-1]}")
        backdate_executions(PIPELINE, {execution_id: (days_ago(4), days_ago(4, 22))}, account_id=account.account_id,
                            region=REGION)
        return
    times = {}
    for key, person, days, answer in RELEASE_HISTORY:
        execution_id = _start_release(client, account, person, key)
        _answer_approval(client("codepipeline"), answer)
        times[execution_id] = (days_ago(days), days_ago(days, 25 if answer == "Approved" else 90))
    backdate_executions(PIPELINE, times, account_id=account.account_id, region=REGION)
    _forget_answered_approvals(client)
    key, person = CURRENT_RELEASE
    execution_id = _start_release(client, account, person, key)
    backdate_executions(PIPELINE, {execution_id: (_minutes_ago(40), _minutes_ago(38))},
                        account_id=account.account_id, region=REGION)


def _start_release(client: Client, account: Account, person: str, source_key: str) -> str:
    """Start the pipeline as `person` (a session of the account's admin role named after them, so
    the execution's trigger names them) from this source object."""
    creds = client("sts").assume_role(RoleArn=_role_arn(account, ADMIN_ROLE), RoleSessionName=person)["Credentials"]
    own = client("codepipeline")
    pipeline = _people_session().client(
        "codepipeline", endpoint_url=own.meta.endpoint_url, region_name=own.meta.region_name,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
    revision = {"actionName": "Source", "revisionType": "S3_OBJECT_KEY", "revisionValue": source_key}
    return pipeline.start_pipeline_execution(name=PIPELINE, sourceRevisions=[revision])["pipelineExecutionId"]


@functools.cache
def _people_session() -> boto3.session.Session:
    """One session for the clients that act as people: the service model is loaded once."""
    return boto3.session.Session()


def _answer_approval(codepipeline: Any, answer: str) -> None:
    stages = codepipeline.get_pipeline_state(name=PIPELINE)["stageStates"]
    waiting = next(s for s in stages if s["stageName"] == APPROVAL_STAGE)["actionStates"][0]["latestExecution"]
    summary = "release checks passed" if answer == "Approved" else "smoke tests failed in staging"
    codepipeline.put_approval_result(pipelineName=PIPELINE, stageName=APPROVAL_STAGE, actionName=APPROVAL_ACTION,
                                     result={"status": answer, "summary": summary}, token=waiting["token"])


def _forget_answered_approvals(client: Client) -> None:
    """The history's approval notifications were answered already: take them off the queue, so
    opsgate asks only for the approval that waits now."""
    sqs = client("sqs")
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=APPROVAL_QUEUE)["QueueUrl"])


def _minutes_ago(minutes: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def seed_budget(client: Client, account: Account) -> None:
    """A monthly cost budget whose figures match the account's Cost Explorer numbers."""
    spent = MONTH_TO_DATE_USD[account.environment]
    client("budgets").create_budget(AccountId=account.account_id, Budget={
        "BudgetName": budget_name(account), "BudgetType": "COST", "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": BUDGET_USD[account.environment], "Unit": "USD"},
        "CalculatedSpend": {"ActualSpend": {"Amount": spent, "Unit": "USD"},
                            "ForecastedSpend": {"Amount": month_end_forecast(spent, date.today()), "Unit": "USD"}},
    })


def budget_name(account: Account) -> str:
    return f"{account.environment}-monthly"


def month_end_forecast(spent: str, today: date) -> str:
    """The spend so far, carried on at the same daily rate to the end of the month."""
    days_in_month = ((today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    return f"{float(spent) / today.day * days_in_month:.2f}"


def _queue_costs(endpoint_url: str | None, account: Account) -> None:
    """Cost Explorer answers with what is queued for the account (moto has no billing data)."""
    today = date.today()
    total = float(MONTH_TO_DATE_USD[account.environment])
    result = {
        "ResultsByTime": [{
            "TimePeriod": {"Start": today.replace(day=1).isoformat(), "End": (today + timedelta(days=1)).isoformat()},
            "Total": {metric: {"Amount": MONTH_TO_DATE_USD[account.environment], "Unit": "USD"}
                      for metric in ("UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost")},
            "Groups": [{"Keys": [service],
                        "Metrics": {"UnblendedCost": {"Amount": f"{total * share:.2f}", "Unit": "USD"}}}
                       for service, share in COST_BY_SERVICE.items()],
            "Estimated": True,
        }],
        "DimensionValueAttributes": [],
    }
    body = {"account_id": account.account_id, "results": [result]}
    rest_of_month = float(month_end_forecast(MONTH_TO_DATE_USD[account.environment], today)) - total
    set_forecast(account.account_id, f"{rest_of_month:.2f}")
    if endpoint_url is None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.set_ce_cost_usage(result=result, account_id=account.account_id)
        return
    request = urllib.request.Request(f"{endpoint_url}/moto-api/static/ce/cost-and-usage-results",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def _settle(done: Any, attempts: int = 5) -> None:
    """Read until the sandbox has moved the resource to where the example wants it (one step per read)."""
    for _ in range(attempts):
        if done():
            return
    raise RuntimeError("the sandbox did not settle a seeded resource; are the moto extensions installed?")
