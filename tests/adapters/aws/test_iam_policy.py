"""The generated IAM policy covers every call the targets really make, and nothing more.

A small catalog using the four AWS targets runs through AwsAutomation against moto, as an
environment role in another account (so AssumeRole happens), with a CallRecorder on every client.
"""

from __future__ import annotations

import json
import time
from datetime import date
from fnmatch import fnmatchcase

import boto3
import pytest

from opsgate.adapters.aws.alarms_target import AlarmsTarget
from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.cost_target import CostTarget
from opsgate.adapters.aws.iam_policy import CallRecorder, RecordedCall, collect, iam_action, policy_for, trust_policy
from opsgate.adapters.aws.lambda_target import LambdaTarget
from opsgate.adapters.aws.stepfunctions_target import StepFunctionsTarget, answer_task
from opsgate.adapters.aws.target import Permission
from opsgate.domain.catalog import ActionSpec, Command, CommandClass, Parameter, ParamType

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/opsgate-prod"
REQUEST = "r-iam00001"
# Actions the policy grants that this run does not call, each with the path that needs it.
NOT_CALLED_HERE = {
    "states:SendTaskFailure": "answer_task when a person denies a workflow's approval step "
                              "(test_stepfunctions_target: test_a_denied_task_token_step_fails_the_execution)",
}

SERVICE = Parameter("service", ParamType.ENUM, values=("web", "api"))
COMMANDS = [
    Command("cache flush", "Flush a service's cache", CommandClass.MUTATE,
            ActionSpec("lambda", {"function": "cache-{service}", "payload": {"service": "{service}"}}), (SERVICE,)),
    Command("release", "Release with an approval step", CommandClass.MUTATE,
            ActionSpec("stepfunctions", {"state_machine": "release", "input": {"service": "{service}"}}), (SERVICE,)),
    Command("alarms", "Alarms of a team's service", CommandClass.READ,
            ActionSpec("alarms", {"name_prefix": "{service}-", "tags": {"team": "payments"}}), (SERVICE,)),
    Command("cost", "Spend so far", CommandClass.READ, ActionSpec("cost", {"top": 3})),
    Command("hello", "Say hello", CommandClass.READ, ActionSpec("builtin", {"operation": "echo", "message": "hi"})),
    Command("help", "Help", CommandClass.READ, None, builtin=True),
]


def targets() -> dict:
    found = [LambdaTarget(), StepFunctionsTarget(), AlarmsTarget(), CostTarget(today=lambda: date(2026, 3, 15))]
    return {target.kind: target for target in found}


def called_resource(call: RecordedCall, token_machines: dict[str, str]) -> str:
    """The resource IAM checks for a call, derived from its parameters alone."""
    params = call.params
    match call.action:
        case "lambda:InvokeFunction":
            name = params["FunctionName"]
            base = name if name.startswith("arn:") else f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}"
            return f"{base}:{params['Qualifier']}" if params.get("Qualifier") else base
        case "states:StartExecution":
            return params["stateMachineArn"]
        case "states:DescribeExecution" | "states:GetExecutionHistory":
            return params["executionArn"]
        case "states:SendTaskSuccess" | "states:SendTaskFailure":
            return token_machines[params["taskToken"]]  # IAM checks the machine whose task it is
        case "cloudwatch:ListTagsForResource":
            return params["ResourceARN"]
        case "cloudwatch:DescribeAlarms" | "ce:GetCostAndUsage" | "ce:GetCostForecast":
            return "*"  # these APIs have no resource-level permissions
    raise AssertionError(f"the test does not know which resource {call.action} touches")


@pytest.fixture
def prod(make_environment):
    return make_environment("prod", account=ACCOUNT, role_arn=ROLE, protected=True)


@pytest.fixture
def resources(prod, clients_for, make_function, aws_endpoint):
    """What the catalog's actions touch, made in the environment's account (not recorded)."""
    setup = clients_for(prod)
    make_function(setup, "cache-web")
    cloudwatch = setup.client("cloudwatch")
    for name, team in (("web-5xx", "payments"), ("web-cpu", "search")):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="CPU", Namespace="AWS/EC2", Statistic="Average",
                                    Period=60, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanThreshold", Tags=[{"Key": "team", "Value": team}])
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    # moto's Step Functions interpreter sends to SQS as moto's default account.
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=aws_endpoint)
    queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    definition = {"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    machine = setup.client("stepfunctions").create_state_machine(
        name="release", definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn")["stateMachineArn"]
    return {"queue": queue, "sqs": sqs, "machine": machine}


def next_token(sqs, queue: str) -> str:
    for _ in range(30):
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return json.loads(messages[0]["Body"])["token"]
    raise AssertionError("the workflow never sent its task token")


def run_catalog(automation: AwsAutomation, sessions, prod, ctx, resources) -> dict[str, str]:
    """Run every AWS command as opsgate would, answering the workflow's approval step; returns
    which state machine each answered task token belongs to."""
    by_name = {c.name: c for c in COMMANDS}
    params = {"service": "web"}
    assert automation.run(by_name["cache flush"].action, params, ctx).ok
    alarms = automation.run(by_name["alarms"].action, params, ctx)
    assert [a["name"] for a in alarms.output["alarms"]] == ["web-5xx"]  # the tags filter was applied
    assert automation.run(by_name["cost"].action, {}, ctx).ok
    release = by_name["release"].action
    result = automation.run(release, params, ctx)
    token = next_token(resources["sqs"], resources["queue"])
    answer_task(sessions.clients(prod, ctx), token, approved=True, output={"approved_by": "bob"})
    deadline = time.monotonic() + 15
    while result.pending:
        assert time.monotonic() < deadline, result.summary
        result = automation.poll(release, params, ctx, result.checkpoint)
        time.sleep(0.05)
    assert result.ok, result.summary
    return {token: resources["machine"]}


def uncovered(calls: list[RecordedCall], policy: dict, token_machines: dict[str, str]) -> list[tuple[str, str]]:
    """(action, resource) of each call no statement of the policy allows."""
    granted = {s["Action"]: s["Resource"] for s in policy["Statement"]}
    needed = [(call.action, called_resource(call, token_machines)) for call in calls]
    return [(action, resource) for action, resource in needed
            if not any(fnmatchcase(resource, pattern) for pattern in granted.get(action, []))]


def test_the_policy_covers_every_call_and_grants_nothing_unused(prod, resources, hooked_sessions, make_ctx):
    recorder = CallRecorder()
    sessions = hooked_sessions(recorder.attach)
    found = targets()
    automation = AwsAutomation(found.values(), sessions)
    ctx = make_ctx(prod, request_id=REQUEST, person_id="alice")

    token_machines = run_catalog(automation, sessions, prod, ctx, resources)
    permissions = collect(COMMANDS, prod, found)
    policy = policy_for(prod, permissions)

    made = [call for call in recorder.calls if call.service != "sts"]  # STS is the trust side
    assert {call.action for call in made} >= {"lambda:InvokeFunction", "states:StartExecution",
                                              "cloudwatch:ListTagsForResource", "ce:GetCostAndUsage"}
    assert uncovered(made, policy, token_machines) == []
    assert {s["Action"] for s in policy["Statement"]} - {call.action for call in made} == set(NOT_CALLED_HERE)
    # The check does catch a gap: without the history permission, those calls are reported.
    narrower = policy_for(prod, [p for p in permissions if p.action != "states:GetExecutionHistory"])
    assert {action for action, _ in uncovered(made, narrower, token_machines)} == {"states:GetExecutionHistory"}


def test_the_role_is_assumed_once_as_the_person_for_the_request(prod, resources, hooked_sessions, make_ctx):
    recorder = CallRecorder()
    sessions = hooked_sessions(recorder.attach)
    found = targets()
    ctx = make_ctx(prod, request_id=REQUEST, person_id="alice")
    run_catalog(AwsAutomation(found.values(), sessions), sessions, prod, ctx, resources)
    [assume] = [call for call in recorder.calls if call.service == "sts"]
    assert assume.action == "sts:AssumeRole"
    assert assume.params["RoleArn"] == ROLE
    assert assume.params["RoleSessionName"] == f"opsgate-{REQUEST}"
    assert assume.params["SourceIdentity"] == "alice"


def test_collect_asks_each_aws_target_and_skips_other_kinds(prod):
    permissions = collect(COMMANDS, prod, targets())
    # an enum placeholder is expanded to each of its values: exact ARNs rather than `cache-*`
    functions = {p.resource for p in permissions if p.action == "lambda:InvokeFunction"}
    assert functions == {f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:cache-{service}" for service in SERVICE.values}
    assert not any(p.action.startswith("builtin") for p in permissions)
    assert permissions == sorted(set(permissions), key=lambda p: (p.action, p.resource))


def test_the_policy_has_one_statement_per_action_with_sorted_unique_resources(prod):
    machine = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:"
    policy = policy_for(prod, [Permission("states:StartExecution", machine + "b"),
                               Permission("ce:GetCostAndUsage", "*"),
                               Permission("states:StartExecution", machine + "a"),
                               Permission("states:StartExecution", machine + "b")])
    assert policy == {"Version": "2012-10-17", "Statement": [
        {"Sid": "ProdCeGetCostAndUsage", "Effect": "Allow", "Action": "ce:GetCostAndUsage", "Resource": ["*"]},
        {"Sid": "ProdStatesStartExecution", "Effect": "Allow", "Action": "states:StartExecution",
         "Resource": [machine + "a", machine + "b"]}]}


def test_the_policy_resources_are_exactly_what_the_targets_asked_for(prod):
    permissions = collect(COMMANDS, prod, targets())
    policy = policy_for(prod, permissions)
    granted = {(s["Action"], resource) for s in policy["Statement"] for resource in s["Resource"]}
    assert granted == {(p.action, p.resource) for p in permissions}


def test_the_trust_policy_requires_a_source_identity_and_allows_setting_it():
    principal = "arn:aws:iam::999999999999:role/opsgate-runtime"
    policy = trust_policy(principal)
    [statement] = policy["Statement"]
    assert policy["Version"] == "2012-10-17"
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": principal}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert statement["Condition"]["Null"] == {"sts:SourceIdentity": "false"}
    assert statement["Condition"]["StringLike"] == {"sts:RoleSessionName": "opsgate-*"}


def test_iam_action_names_follow_iam_where_the_api_differs():
    assert iam_action("lambda", "Invoke") == "lambda:InvokeFunction"
    assert iam_action("monitoring", "DescribeAlarms") == "cloudwatch:DescribeAlarms"
    assert iam_action("states", "StartExecution") == "states:StartExecution"


def test_the_recorder_records_each_call_once_however_often_it_is_attached(aws_endpoint):
    recorder = CallRecorder()
    session = boto3.session.Session()
    recorder.attach(session)
    sqs = session.client("sqs", region_name="eu-west-1", endpoint_url=aws_endpoint)
    recorder.attach(sqs)
    recorder.attach(sqs)
    sqs.list_queues(MaxResults=5)
    assert recorder.calls == [RecordedCall("sqs", "ListQueues", {"MaxResults": 5})]
