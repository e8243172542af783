"""`start_sandbox()`: a moto server with every example resource, started in well under 5 s."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from opsgate.adapters.aws.session import SessionFactory
from opsgate.domain.catalog import Environment
from opsgate.ports import RunContext
from opsgate.sandbox import Sandbox, start_sandbox
from opsgate.sandbox.seed import (
    ACCOUNTS,
    ALARMING,
    ALARMS,
    APPROVAL_ACTION,
    APPROVAL_QUEUE,
    APPROVAL_STAGE,
    CODEDEPLOY_APPLICATION,
    ECS_CLUSTER,
    ECS_SERVICE,
    FUNCTIONS,
    MONTH_TO_DATE_USD,
    PIPELINE,
    PIPELINE_ENVIRONMENT,
    REGION,
    RELEASES,
    ROLLBACK_STATE_MACHINE,
    SSM_DOCUMENT,
    TASK_FAMILY,
    Account,
    release_revision,
)

START_LIMIT_S = 5.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    started = start_sandbox()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def clients_in(sandbox):
    """`clients_in(account)`: clients as opsgate gets them (the role if the account has one, else the
    sandbox's own credentials, which act in dev)."""
    base = boto3.session.Session(aws_access_key_id=sandbox.credentials.access_key_id,
                                 aws_secret_access_key=sandbox.credentials.secret_access_key, region_name=REGION)
    sessions = SessionFactory(endpoint_url=sandbox.endpoint_url, base_session=base, max_attempts=1)

    def build(account: Account):
        env = Environment(account.environment, account.account_id, REGION, role_arn=account.opsgate_role_arn)
        return sessions.clients(env, RunContext(request_id="r-sandbox", person_id="alice", environment=env))

    return build


def test_the_sandbox_starts_in_well_under_five_seconds(sandbox):
    print(f"start_sandbox: {sandbox.started_s:.2f}s")  # shown with -s; about 1.5-2 s on the project's machines
    assert sandbox.started_s < START_LIMIT_S
    assert sandbox.endpoint_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_each_account_is_reached_as_opsgate_reaches_it(clients_in, account):
    assert clients_in(account).client("sts").get_caller_identity()["Account"] == account.account_id


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_each_account_holds_the_example_resources(clients_in, account):
    clients = clients_in(account)
    functions = {f["FunctionName"] for f in clients.client("lambda").list_functions()["Functions"]}
    assert functions >= set(FUNCTIONS)
    machines = clients.client("stepfunctions").list_state_machines()["stateMachines"]
    assert [m["name"] for m in machines] == [ROLLBACK_STATE_MACHINE]
    assert clients.client("sqs").get_queue_url(QueueName=APPROVAL_QUEUE)["QueueUrl"].endswith(
        f"/{account.account_id}/{APPROVAL_QUEUE}")
    assert clients.client("ssm").describe_document(Name=SSM_DOCUMENT)["Document"]["DocumentType"] == "Automation"


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_some_alarms_are_in_alarm(clients_in, account):
    alarms = clients_in(account).client("cloudwatch").describe_alarms()["MetricAlarms"]
    states = {a["AlarmName"]: a["StateValue"] for a in alarms}
    alarming = ALARMING.get(account.environment, ())
    assert states == {name: "ALARM" if name in alarming else "OK" for name in ALARMS}


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_the_web_service_runs_its_second_revision_with_the_first_to_roll_back_to(clients_in, account):
    ecs = clients_in(account).client("ecs")
    service = ecs.describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0]
    assert service["taskDefinition"].endswith(f"task-definition/{TASK_FAMILY}:2")
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert len(ecs.list_task_definitions(familyPrefix=TASK_FAMILY)["taskDefinitionArns"]) == 2


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_codedeploy_has_two_successful_releases(clients_in, account):
    codedeploy = clients_in(account).client("codedeploy")
    group = {"applicationName": CODEDEPLOY_APPLICATION, "deploymentGroupName": account.environment}
    assert len(codedeploy.list_deployments(**group, includeOnlyStatuses=["Succeeded"])["deployments"]) == len(RELEASES)
    assert codedeploy.get_deployment_group(**group)["deploymentGroupInfo"]["targetRevision"] == release_revision(RELEASES[-1])


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.environment)
def test_month_to_date_cost_has_numbers(clients_in, account):
    answer = clients_in(account).client("ce").get_cost_and_usage(
        TimePeriod={"Start": "2026-01-01", "End": "2026-01-31"}, Granularity="MONTHLY", Metrics=["UnblendedCost"])
    assert answer["ResultsByTime"][0]["Total"]["UnblendedCost"] == {"Amount": MONTH_TO_DATE_USD[account.environment],
                                                                    "Unit": "USD"}


def test_the_release_pipeline_waits_at_the_prod_approval(clients_in):
    prod = next(a for a in ACCOUNTS if a.environment == PIPELINE_ENVIRONMENT)
    stages = clients_in(prod).client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"]
    approval = next(s for s in stages if s["stageName"] == APPROVAL_STAGE)
    action = approval["actionStates"][0]
    assert (action["actionName"], action["latestExecution"]["status"]) == (APPROVAL_ACTION, "InProgress")
    assert action["latestExecution"]["token"]


def test_the_opsgate_roles_the_catalog_names_exist(clients_in):
    for account in ACCOUNTS:
        if account.opsgate_role:
            role = clients_in(account).client("iam").get_role(RoleName=account.opsgate_role)["Role"]
            assert role["Arn"] == account.opsgate_role_arn


def test_a_function_echoes_its_payload(clients_in):
    answer = clients_in(ACCOUNTS[0]).client("lambda").invoke(FunctionName=FUNCTIONS[0], Payload=b'{"service": "web"}')
    assert json.loads(answer["Payload"].read()) == {"service": "web"}
