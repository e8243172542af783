"""CodePipeline in the sandbox: executions wait at manual approvals until PutApprovalResult."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from opsgate.sandbox.seed import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    PIPELINE,
    PIPELINE_STAGES,
    RELEASE_HISTORY,
    seed_approval_queue,
    seed_iam,
    seed_pipeline,
)
from tests.adapters.aws.sandbox_fixtures import PROD_ACCOUNT

APPROVAL = {"pipelineName": PIPELINE, "stageName": APPROVAL_STAGE, "actionName": APPROVAL_ACTION}


@pytest.fixture
def queue_url(prod_clients) -> str:
    seed_iam(prod_clients.client, PROD_ACCOUNT)
    url, topic_arn = seed_approval_queue(prod_clients.client)
    seed_pipeline(prod_clients.client, PROD_ACCOUNT, topic_arn)  # starts an execution
    return url


@pytest.fixture
def codepipeline(prod_clients, queue_url):
    return prod_clients.client("codepipeline")


def stages(codepipeline) -> dict[str, dict]:
    return {s["stageName"]: s for s in codepipeline.get_pipeline_state(name=PIPELINE)["stageStates"]}


def stage_status(codepipeline) -> dict[str, str | None]:
    return {name: (s.get("latestExecution") or {}).get("status") for name, s in stages(codepipeline).items()}


def approval_token(codepipeline) -> str:
    return stages(codepipeline)[APPROVAL_STAGE]["actionStates"][0]["latestExecution"]["token"]


def execution_status(codepipeline) -> str:
    return codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"][0]["status"]


def answer(codepipeline, status: str, token: str | None = None) -> dict:
    return codepipeline.put_approval_result(**APPROVAL, result={"status": status, "summary": "looks good"},
                                            token=token or approval_token(codepipeline))


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_an_execution_waits_at_the_approval_with_a_token(codepipeline):
    assert list(stage_status(codepipeline).items()) == [
        ("Source", "Succeeded"), ("Build", "Succeeded"), (APPROVAL_STAGE, "InProgress"), ("Deploy", None)]
    action = stages(codepipeline)[APPROVAL_STAGE]["actionStates"][0]
    assert action["actionName"] == APPROVAL_ACTION
    assert action["latestExecution"]["status"] == "InProgress"
    assert len(action["latestExecution"]["token"]) == 36
    assert execution_status(codepipeline) == "InProgress"


def test_the_approval_notification_reaches_the_queue_through_sns(codepipeline, prod_clients, queue_url):
    messages = prod_clients.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    approval = json.loads(json.loads(messages[0]["Body"])["Message"])["approval"]
    assert {k: approval[k] for k in ("pipelineName", "stageName", "actionName")} == APPROVAL
    assert approval["token"] == approval_token(codepipeline)
    assert approval["customData"] == "Release web to prod?"


def test_approving_runs_the_rest_of_the_pipeline(codepipeline):
    assert answer(codepipeline, "Approved")["approvedAt"]
    assert set(stage_status(codepipeline).values()) == {"Succeeded"}
    action = stages(codepipeline)[APPROVAL_STAGE]["actionStates"][0]["latestExecution"]
    assert action["summary"] == "looks good"
    assert "token" not in action
    assert execution_status(codepipeline) == "Succeeded"


def test_rejecting_fails_the_stage_and_the_execution(codepipeline):
    answer(codepipeline, "Rejected")
    assert stage_status(codepipeline)[APPROVAL_STAGE] == "Failed"
    assert stage_status(codepipeline)["Deploy"] is None
    assert execution_status(codepipeline) == "Failed"


def test_a_wrong_token_is_refused(codepipeline):
    assert error_code(lambda: answer(codepipeline, "Approved", token="0" * 36)) == "InvalidApprovalTokenException"
    assert stage_status(codepipeline)[APPROVAL_STAGE] == "InProgress"


def test_an_answered_approval_cannot_be_answered_again(codepipeline):
    token = approval_token(codepipeline)
    answer(codepipeline, "Approved", token)
    assert error_code(lambda: answer(codepipeline, "Rejected", token)) == "ApprovalAlreadyCompletedException"


@pytest.mark.parametrize(("where", "code"), [
    ({"stageName": "Nope"}, "StageNotFoundException"),
    ({"actionName": "Nope"}, "ActionNotFoundException"),
    ({"actionName": "Build", "stageName": "Build"}, "ActionNotFoundException"),  # not an approval action
    ({"pipelineName": "nope"}, "PipelineNotFoundException"),
])
def test_an_approval_that_does_not_exist_is_refused(codepipeline, where, code):
    call = {**APPROVAL, **where}
    assert error_code(lambda: codepipeline.put_approval_result(
        **call, result={"status": "Approved", "summary": "x"}, token=approval_token(codepipeline))) == code


def test_a_new_execution_supersedes_the_waiting_one(codepipeline):
    old_token = approval_token(codepipeline)
    codepipeline.start_pipeline_execution(name=PIPELINE)
    summaries = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    history = ["Succeeded" if answer == "Approved" else "Failed" for *_, answer in reversed(RELEASE_HISTORY)]
    assert [s["status"] for s in summaries] == ["InProgress", "Superseded", *history]
    assert approval_token(codepipeline) != old_token


def test_a_pipeline_never_started_has_no_stage_executions(prod_clients, codepipeline):
    pipeline = codepipeline.get_pipeline(name=PIPELINE)["pipeline"]
    codepipeline.create_pipeline(pipeline={**pipeline, "name": "idle"})
    state = codepipeline.get_pipeline_state(name="idle")
    assert [s["stageName"] for s in state["stageStates"]] == list(PIPELINE_STAGES)
    assert all("latestExecution" not in s for s in state["stageStates"])


def test_the_state_of_an_unknown_pipeline_is_not_found(codepipeline):
    assert error_code(lambda: codepipeline.get_pipeline_state(name="nope")) == "PipelineNotFoundException"
