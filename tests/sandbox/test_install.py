"""`install()` is idempotent and the extensions work in-process under `mock_aws` too."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from moto.cloudwatch.responses import CloudWatchResponse

from opsgate.sandbox.moto_extensions import cloudwatch, install
from opsgate.sandbox.seed import (
    APPROVAL_QUEUE,
    APPROVAL_STAGE,
    PIPELINE,
    REGION,
    ROLLBACK_APPROVAL_STEP,
    ROLLBACK_STATE_MACHINE,
    account,
    seed,
)

MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


def test_installing_again_keeps_one_layer_of_each_extension(prod_clients):
    install()
    install()
    assert CloudWatchResponse.set_alarm_state is cloudwatch.set_alarm_state
    client = prod_clients.client("cloudwatch")
    client.put_metric_alarm(AlarmName="a", Namespace="n", MetricName="m", Statistic="Average", Period=60,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    client.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="r")
    assert len(client.describe_alarm_history(AlarmName="a", HistoryItemType="StateUpdate")["AlarmHistoryItems"]) == 2


def prod_session() -> boto3.session.Session:
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=account("prod").opsgate_role_arn, RoleSessionName="in-process")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=REGION)


def test_the_example_world_works_in_process_under_mock_aws():
    with mock_aws(config=MOTO_CONFIG):
        install()
        seed(None)
        prod = prod_session()
        state = prod.client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"]
        assert {s["stageName"]: s.get("latestExecution", {}).get("status") for s in state}[APPROVAL_STAGE] == "InProgress"
        assert prod.client("ce", region_name="us-east-1").get_cost_and_usage(
            TimePeriod={"Start": "2026-01-01", "End": "2026-01-31"}, Granularity="MONTHLY",
            Metrics=["UnblendedCost"])["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"] == "9731.15"


def queued_bodies(sqs, url: str, reads: int = 5):
    """Message bodies as they arrive (the pipeline's approval notification is queued there too)."""
    for _ in range(reads):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", []):
            yield json.loads(message["Body"])


def test_a_workflow_in_prod_sends_its_approval_to_prods_queue():
    """The Step Functions interpreter calls SQS as moto's default account; the queue URL decides."""
    with mock_aws(config=MOTO_CONFIG):
        install()
        seed(None)
        prod = prod_session()
        machine = f"arn:aws:states:{REGION}:{account('prod').account_id}:stateMachine:{ROLLBACK_STATE_MACHINE}"
        prod.client("stepfunctions").start_execution(stateMachineArn=machine, name="r-0042",
                                                     input=json.dumps({"request_id": "r-0042"}))
        sqs = prod.client("sqs")
        url = sqs.get_queue_url(QueueName=APPROVAL_QUEUE)["QueueUrl"]
        body = next(body for body in queued_bodies(sqs, url) if "taskToken" in body)
        assert (body["request_id"], body["step"]) == ("r-0042", ROLLBACK_APPROVAL_STEP)
        prod.client("stepfunctions").send_task_success(taskToken=body["taskToken"], output="{}")
