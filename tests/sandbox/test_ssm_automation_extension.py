"""SSM Automation in the sandbox: executions walk the runbook's steps, one per read."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from opsgate.sandbox.moto_extensions import fail_automations
from opsgate.sandbox.seed import REGION, SSM_DOCUMENT, SSM_STEPS, seed_ssm_document
from tests.adapters.aws.sandbox_fixtures import PROD_ACCOUNT


@pytest.fixture
def ssm(prod_clients):
    seed_ssm_document(prod_clients.client)
    return prod_clients.client("ssm")


def start(ssm, **parameters: str) -> str:
    values = {"Service": "web", **parameters}
    return ssm.start_automation_execution(DocumentName=SSM_DOCUMENT, Parameters={k: [v] for k, v in values.items()})[
        "AutomationExecutionId"]


def read(ssm, execution_id: str) -> dict:
    return ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_each_read_finishes_one_step_until_the_execution_succeeds(ssm):
    execution_id = start(ssm)
    seen = [[s["StepStatus"] for s in read(ssm, execution_id)["StepExecutions"]] for _ in SSM_STEPS]
    assert seen == [["Success", "InProgress", "Pending"], ["Success", "Success", "InProgress"],
                    ["Success", "Success", "Success"]]
    final = read(ssm, execution_id)
    assert final["AutomationExecutionStatus"] == "Success"
    assert [s["StepName"] for s in final["StepExecutions"]] == list(SSM_STEPS)
    assert final["Parameters"] == {"Service": ["web"]}
    assert final["ExecutionEndTime"] >= final["ExecutionStartTime"]


def test_a_parameter_value_fail_fails_the_last_step(ssm):
    execution_id = start(ssm, Reason="fail")
    for _ in SSM_STEPS:
        execution = read(ssm, execution_id)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert [s["StepStatus"] for s in execution["StepExecutions"]] == ["Success", "Success", "Failed"]
    assert "VerifyHealth" in execution["FailureMessage"]
    assert execution["StepExecutions"][-1]["FailureMessage"]


def test_the_hook_fails_every_execution_of_a_runbook(ssm):
    fail_automations(SSM_DOCUMENT, account_id=PROD_ACCOUNT.account_id, region=REGION)
    execution_id = start(ssm)
    statuses = [read(ssm, execution_id)["AutomationExecutionStatus"] for _ in SSM_STEPS]
    assert statuses == ["InProgress", "InProgress", "Failed"]


def test_the_same_client_token_returns_the_same_execution(ssm):
    token = str(uuid.uuid4())
    first = ssm.start_automation_execution(DocumentName=SSM_DOCUMENT, Parameters={"Service": ["web"]}, ClientToken=token)
    again = ssm.start_automation_execution(DocumentName=SSM_DOCUMENT, Parameters={"Service": ["web"]}, ClientToken=token)
    assert again["AutomationExecutionId"] == first["AutomationExecutionId"]


def test_a_client_token_reused_with_other_parameters_is_refused(ssm):
    token = str(uuid.uuid4())
    ssm.start_automation_execution(DocumentName=SSM_DOCUMENT, Parameters={"Service": ["web"]}, ClientToken=token)
    assert error_code(lambda: ssm.start_automation_execution(
        DocumentName=SSM_DOCUMENT, Parameters={"Service": ["api"]}, ClientToken=token)) == "IdempotentParameterMismatch"


def test_a_client_token_must_be_a_uuid(ssm):
    assert error_code(lambda: ssm.start_automation_execution(
        DocumentName=SSM_DOCUMENT, Parameters={"Service": ["web"]}, ClientToken="x" * 36)) == "ValidationException"


@pytest.mark.parametrize(("parameters", "code"), [
    ({"Service": ["web"], "Colour": ["red"]}, "InvalidAutomationExecutionParametersException"),
    ({"Reason": ["tidy"]}, "InvalidAutomationExecutionParametersException"),  # Service has no default
])
def test_parameters_are_checked_against_the_runbook(ssm, parameters, code):
    assert error_code(lambda: ssm.start_automation_execution(DocumentName=SSM_DOCUMENT, Parameters=parameters)) == code


def test_an_unknown_runbook_is_not_found(ssm):
    assert error_code(lambda: ssm.start_automation_execution(DocumentName="no-such-runbook")) == \
        "AutomationDefinitionNotFoundException"


def test_a_command_document_is_not_an_automation_runbook(ssm):
    ssm.create_document(Name="run-shell", DocumentType="Command", DocumentFormat="JSON", Content=(
        '{"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript", "name": "run",'
        ' "inputs": {"runCommand": ["true"]}}]}'))
    assert error_code(lambda: ssm.start_automation_execution(DocumentName="run-shell")) == \
        "AutomationDefinitionNotFoundException"


def test_stop_cancels_the_running_step(ssm):
    execution_id = start(ssm)
    ssm.stop_automation_execution(AutomationExecutionId=execution_id, Type="Cancel")
    execution = read(ssm, execution_id)
    assert execution["AutomationExecutionStatus"] == "Cancelled"
    assert [s["StepStatus"] for s in execution["StepExecutions"]] == ["Cancelled", "Pending", "Pending"]


def test_a_finished_execution_cannot_be_stopped(ssm):
    execution_id = start(ssm)
    for _ in SSM_STEPS:
        read(ssm, execution_id)
    assert error_code(lambda: ssm.stop_automation_execution(AutomationExecutionId=execution_id)) == \
        "InvalidAutomationStatusUpdateException"


def test_an_unknown_execution_is_not_found(ssm):
    assert error_code(lambda: read(ssm, str(uuid.uuid4()))) == "AutomationExecutionNotFoundException"


def test_executions_belong_to_their_account(ssm, sandbox_endpoint):
    import boto3

    elsewhere = boto3.client("ssm", region_name=REGION, endpoint_url=sandbox_endpoint)  # moto's default account
    assert error_code(lambda: read(elsewhere, start(ssm))) == "AutomationExecutionNotFoundException"
