"""The `ssm-automation` target over HTTP against the sandbox (moto with opsgate's extensions)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.aws.ssm_target import SsmAutomationTarget, client_token, redact
from opsgate.adapters.aws.target import Permission
from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError
from opsgate.sandbox.moto_extensions import FAIL_VALUE
from opsgate.sandbox.seed import SSM_DOCUMENT, SSM_STEPS, seed_ssm_document
from tests.adapters.aws.sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROD,
    actions_called,
    drive,
    granted_actions,
    prod_clients,
    progress,
    run_ctx,
    sandbox_endpoint,
)

TARGET = SsmAutomationTarget()
SETTINGS = {"document": SSM_DOCUMENT, "parameters": {"Service": "web"}}
EXECUTIONS = "arn:aws:ssm:eu-west-1:333333333333:automation-execution/*"


@pytest.fixture
def clients(prod_clients):
    seed_ssm_document(prod_clients.client)
    return prod_clients


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_a_complete_action():
    assert TARGET.validate({"document": "restart-{service}", "parameters": {"Service": "{service}", "Ids": ["a", "b"]},
                            "timeout": "30m"}) == []


def test_validate_reports_each_problem():
    assert TARGET.validate({"parameters": {"Ok": "x", "Bad": 3, "Mixed": ["a", 1]}, "timeout": "soon", "doc": "x"}) == [
        "doc: unknown key; the ssm-automation action accepts kind, document, parameters, timeout",
        "document: is required (an SSM Automation runbook name or ARN)",
        "parameters.Bad: must be text or a list of text",
        "parameters.Mixed: must be text or a list of text",
        "timeout: must be a duration: a number of seconds or parts like 90s, 15m, 2h, 1h30m, 7d"]


def test_validate_wants_parameters_as_a_mapping():
    assert TARGET.validate({"document": "d", "parameters": ["Service=web"]}) == [
        "parameters: must be a mapping of runbook parameter names to text or lists of text"]


def test_permissions_name_the_runbook_with_placeholders_as_wildcards():
    assert TARGET.permissions({"document": "restart-{service}"}, PROD) == [
        Permission("ssm:StartAutomationExecution", "arn:aws:ssm:eu-west-1:333333333333:document/restart-*"),
        Permission("ssm:StartAutomationExecution", EXECUTIONS),
        Permission("ssm:GetAutomationExecution", EXECUTIONS),
    ]


def test_permissions_for_an_aws_owned_runbook_have_no_account():
    first = TARGET.permissions({"document": "AWS-RestartEC2Instance"}, PROD)[0]
    assert first.resource == "arn:aws:ssm:eu-west-1::document/AWS-RestartEC2Instance"


def test_plan_shows_parameter_names_but_never_their_values(run_ctx):
    start, follow = TARGET.plan({"document": SSM_DOCUMENT, "parameters": {"Service": "web", "Password": "hunter22"}},
                                PROD, run_ctx)
    assert (start.api, start.target) == ("ssm:StartAutomationExecution",
                                         "arn:aws:ssm:eu-west-1:333333333333:document/acme-restart-service")
    assert start.parameters == {"DocumentName": SSM_DOCUMENT, "Parameters": {"Service": "<hidden>", "Password": "<hidden>"},
                                "ClientToken": client_token(run_ctx.request_id)}
    assert follow.api == "ssm:GetAutomationExecution"
    assert "hunter22" not in repr(start)


def test_the_client_token_is_a_uuid_fixed_by_the_request_id():
    assert uuid.UUID(client_token("r-0042")) == uuid.UUID(client_token("r-0042"))
    assert client_token("r-0042") != client_token("r-0043")


def test_redact_removes_parameter_values_from_aws_text():
    settings = {"parameters": {"Password": "hunter22", "Ids": ["i-0abc1234", "fail"]}}
    assert redact("login hunter22 failed on i-0abc1234 (fail)", settings) == "login *** failed on *** (fail)"


# -- run and poll against the sandbox -------------------------------------------------------------

def test_a_runbook_is_followed_step_by_step_to_success(clients, run_ctx):
    results = drive(TARGET, clients, SETTINGS, run_ctx)
    started, done = results[0], results[-1]
    assert started.ok and started.pending
    assert started.summary == f"Started runbook {SSM_DOCUMENT} ({started.checkpoint['execution_id']})"
    assert set(started.correlation) == {"execution_id", "console_url", "aws_request_id"}
    assert started.correlation["console_url"].startswith("https://eu-west-1.console.aws.amazon.com/systems-manager/")
    assert progress(results) == [f"Step {step}: Success" for step in SSM_STEPS]
    assert done.ok and not done.pending
    assert done.summary == f"Runbook {SSM_DOCUMENT} succeeded (3 steps)"
    assert done.correlation["execution_id"] == started.checkpoint["execution_id"]


def test_a_failed_runbook_reports_the_step_and_its_message(clients, run_ctx):
    results = drive(TARGET, clients, {"document": SSM_DOCUMENT, "parameters": {"Service": FAIL_VALUE}}, run_ctx)
    done = results[-1]
    assert not done.ok and not done.pending
    assert done.summary.startswith(f"Runbook {SSM_DOCUMENT} failed: Step VerifyHealth failed")
    assert progress(results)[:2] == ["Step DrainConnections: Success", "Step RestartTasks: Success"]
    assert progress(results)[2].startswith("Step VerifyHealth: Failed: ")


def test_secret_parameter_values_never_reach_chat(clients, run_ctx):
    secret = "correct-horse-battery"
    clients.client("ssm").create_document(Name="rotate", DocumentType="Automation", DocumentFormat="JSON", Content=(
        '{"schemaVersion": "0.3", "parameters": {"Value": {"type": "String"}, "Mode": {"type": "String"}},'
        ' "mainSteps": [{"name": "Store", "action": "aws:executeAwsApi"}]}'))
    results = drive(TARGET, clients, {"document": "rotate", "parameters": {"Value": secret, "Mode": FAIL_VALUE}}, run_ctx)
    shown = " ".join([r.summary for r in results] + progress(results) + [repr(r.output) for r in results])
    assert not results[-1].ok and secret not in shown


def test_a_retried_run_follows_the_execution_the_first_run_started(clients, run_ctx):
    first = TARGET.run(clients, SETTINGS, run_ctx)
    again = TARGET.run(clients, SETTINGS, run_ctx)
    assert again.checkpoint["execution_id"] == first.checkpoint["execution_id"]


def test_a_runbook_still_running_after_the_timeout_is_left_running(clients, run_ctx):
    clock = Clock()
    target = SsmAutomationTarget(now=clock)
    settings = {**SETTINGS, "timeout": "10m"}
    started = target.run(clients, settings, run_ctx)
    clock.now += timedelta(minutes=11)
    late = target.poll(clients, settings, run_ctx, started.checkpoint)
    assert not late.ok and not late.pending
    assert late.summary.startswith(f"Runbook {SSM_DOCUMENT} is still running after 10m; opsgate stopped following it")
    execution = clients.client("ssm").get_automation_execution(AutomationExecutionId=started.checkpoint["execution_id"])
    assert execution["AutomationExecution"]["AutomationExecutionStatus"] == "InProgress"  # not stopped


def test_poll_without_an_execution_is_an_error(clients, run_ctx):
    with pytest.raises(AutomationError, match="no execution_id"):
        TARGET.poll(clients, SETTINGS, run_ctx, {})


def test_through_aws_automation_templates_are_filled_and_a_missing_runbook_is_reported(sandbox_endpoint, run_ctx):
    automation = AwsAutomation([TARGET], SessionFactory(endpoint_url=sandbox_endpoint, max_attempts=2))
    action = ActionSpec("ssm-automation", {"document": "restart-{service}", "parameters": {"Service": "{service}"}})
    with pytest.raises(AutomationError, match=r"The resource was not found \(ssm:StartAutomationExecution\)"):
        automation.run(action, {"service": "web"}, run_ctx)
    [start, _] = automation.plan(action, {"service": "web"}, run_ctx)
    assert start.parameters["DocumentName"] == "restart-web"


def test_settings_a_placeholder_made_unusable_are_refused_at_run(clients, run_ctx):
    with pytest.raises(AutomationError, match="document: must be"):
        TARGET.run(clients, {"document": "  "}, run_ctx)


def test_the_clients_act_in_prod_through_its_role(prod_clients):
    # What every test here relies on: the target's calls land in prod's account, as its role.
    identity = prod_clients.client("sts").get_caller_identity()
    assert identity["Account"] == PROD.account and ":assumed-role/opsgate-prod/" in identity["Arn"]


def test_the_permissions_name_every_action_a_run_calls(clients, run_ctx):
    called = actions_called(TARGET, clients, SETTINGS, run_ctx, "ssm")
    assert called == {"ssm:StartAutomationExecution", "ssm:GetAutomationExecution"}
    assert called <= granted_actions(TARGET, SETTINGS)
