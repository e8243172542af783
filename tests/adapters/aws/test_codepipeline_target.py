"""The `codepipeline` target over HTTP against the sandbox (moto with opsgate's extensions)."""

from __future__ import annotations

import pytest

from opsgate.adapters.aws.codepipeline_target import CodePipelineTarget, pipeline_console_url
from opsgate.adapters.aws.target import Permission
from opsgate.errors import AutomationError
from opsgate.sandbox.seed import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    PIPELINE,
    REGION,
    seed_approval_queue,
    seed_iam,
    seed_pipeline,
)
from tests.adapters.aws.sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROD,
    PROD_ACCOUNT,
    actions_called,
    granted_actions,
    prod_clients,
    run_ctx,
    sandbox_endpoint,
)

TARGET = CodePipelineTarget()
STATUS = {"pipeline": PIPELINE, "operation": "status"}
APPROVE = {"pipeline": PIPELINE, "operation": "approve", "stage": APPROVAL_STAGE, "action": APPROVAL_ACTION}
REJECT = {**APPROVE, "operation": "reject", "summary": "smoke tests failed in staging"}
PIPELINE_ARN = "arn:aws:codepipeline:eu-west-1:333333333333:web-release"


@pytest.fixture
def clients(prod_clients):
    seed_iam(prod_clients.client, PROD_ACCOUNT)
    _, topic_arn = seed_approval_queue(prod_clients.client)
    seed_pipeline(prod_clients.client, PROD_ACCOUNT, topic_arn)  # waits at Approve / ProdApproval
    return prod_clients


def approval(clients) -> dict:
    stages = clients.client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"]
    return next(s for s in stages if s["stageName"] == APPROVAL_STAGE)["actionStates"][0]["latestExecution"]


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_each_operation():
    assert TARGET.validate(STATUS) == []
    assert TARGET.validate(APPROVE) == []
    assert TARGET.validate(REJECT) == []


def test_validate_reports_each_problem():
    assert TARGET.validate({"operation": "approve", "token": "t"}) == [
        "token: unknown key; the codepipeline action accepts kind, pipeline, operation, stage, action, summary",
        "pipeline: is required (a pipeline name)",
        "stage: is required (the stage holding the approval action)",
        "action: is required (the manual approval action's name)"]
    assert TARGET.validate({**STATUS, "stage": "Approve"}) == ["stage: only approve and reject use it"]
    assert TARGET.validate({"pipeline": "p", "operation": "retry"}) == [
        "operation: must be status, approve or reject (got 'retry')"]


def test_status_needs_only_to_read_the_pipeline_state():
    assert TARGET.permissions(STATUS, PROD) == [Permission("codepipeline:GetPipelineState", PIPELINE_ARN)]


def test_answering_is_allowed_on_the_one_approval_action_only():
    assert TARGET.permissions({**APPROVE, "stage": "{stage}"}, PROD) == [
        Permission("codepipeline:GetPipelineState", PIPELINE_ARN),
        Permission("codepipeline:PutApprovalResult", f"{PIPELINE_ARN}/*/{APPROVAL_ACTION}"),
    ]


def test_plan_shows_the_answer_with_the_person_and_request(run_ctx):
    read, answer = TARGET.plan(REJECT, PROD, run_ctx)
    assert read.api == "codepipeline:GetPipelineState"
    assert (answer.api, answer.target) == ("codepipeline:PutApprovalResult", f"{PIPELINE_ARN}/Approve/ProdApproval")
    assert answer.parameters["result"] == {
        "status": "Rejected", "summary": "Rejected in opsgate by alice (request r-0042): smoke tests failed in staging"}
    assert [c.api for c in TARGET.plan(STATUS, PROD, run_ctx)] == ["codepipeline:GetPipelineState"]


# -- run against the sandbox ----------------------------------------------------------------------

def test_status_lists_each_stage_with_its_latest_execution(clients, run_ctx):
    result = TARGET.run(clients, STATUS, run_ctx)
    execution = result.output["stages"][0]["execution_id"]
    assert result.ok and not result.pending
    assert result.summary.splitlines() == [
        f"Pipeline {PIPELINE}:",
        f"• Source: Succeeded (execution {execution[:8]})",
        f"• Build: Succeeded (execution {execution[:8]})",
        f"• Approve: InProgress (execution {execution[:8]}) — ProdApproval waits for approval",
        "• Deploy: not run yet"]
    assert [s["status"] for s in result.output["stages"]] == ["Succeeded", "Succeeded", "InProgress", ""]
    assert result.correlation == {"console_url": pipeline_console_url(REGION, PIPELINE)}


def test_approve_answers_the_waiting_approval_naming_the_person_and_request(clients, run_ctx):
    result = TARGET.run(clients, APPROVE, run_ctx)
    assert result.ok and result.summary.startswith(f"Approved {PIPELINE} / {APPROVAL_STAGE} / {APPROVAL_ACTION} (execution ")
    assert {"pipeline_execution_id", "aws_request_id", "console_url"} <= set(result.correlation)
    answered = approval(clients)
    assert answered["status"] == "Succeeded"
    assert answered["summary"] == "Approved in opsgate by alice (request r-0042)"
    assert TARGET.run(clients, STATUS, run_ctx).output["stages"][-1]["status"] == "Succeeded"


def test_reject_fails_the_approval_with_the_given_reason(clients, run_ctx):
    result = TARGET.run(clients, REJECT, run_ctx)
    assert result.ok and result.summary.startswith("Rejected ")
    answered = approval(clients)
    assert answered["status"] == "Failed"
    assert answered["summary"].endswith("(request r-0042): smoke tests failed in staging")


def test_nothing_waiting_is_a_clear_failure_and_answers_nothing(clients, run_ctx):
    TARGET.run(clients, APPROVE, run_ctx)
    again = TARGET.run(clients, REJECT, run_ctx)
    assert not again.ok
    assert again.summary == (f"No approval is waiting at {PIPELINE} / {APPROVAL_STAGE} / {APPROVAL_ACTION} "
                             "(its latest execution is Succeeded); nothing was answered")
    assert approval(clients)["status"] == "Succeeded"


def test_an_approval_never_reached_is_a_clear_failure(clients, run_ctx):
    clients.client("codepipeline").create_pipeline(pipeline={
        **clients.client("codepipeline").get_pipeline(name=PIPELINE)["pipeline"], "name": "idle"})
    result = TARGET.run(clients, {**APPROVE, "pipeline": "idle"}, run_ctx)
    assert not result.ok and result.summary.endswith("(it has not run yet); nothing was answered")


@pytest.mark.parametrize(("where", "says"), [
    ({"stage": "Ship"}, "Pipeline web-release has no stage Ship (its stages: Source, Build, Approve, Deploy)"),
    ({"action": "QA"}, "Stage Approve of web-release has no action QA (its actions: ProdApproval)"),
])
def test_a_stage_or_action_that_does_not_exist_is_named(clients, run_ctx, where, says):
    result = TARGET.run(clients, {**APPROVE, **where}, run_ctx)
    assert not result.ok and result.summary == says


def test_an_unknown_pipeline_surfaces_as_aws_not_found(clients, run_ctx):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="PipelineNotFoundException"):  # AwsAutomation maps it for chat
        TARGET.run(clients, {**STATUS, "pipeline": "nope"}, run_ctx)


def test_there_is_nothing_to_poll(clients, run_ctx):
    with pytest.raises(AutomationError, match="finish at once"):
        TARGET.poll(clients, STATUS, run_ctx, {})


@pytest.mark.parametrize("settings", [STATUS, APPROVE], ids=["status", "approve"])
def test_the_permissions_name_every_action_a_run_calls(clients, run_ctx, settings):
    called = actions_called(TARGET, clients, settings, run_ctx, "codepipeline")
    assert called and called <= granted_actions(TARGET, settings)
