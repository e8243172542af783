"""The `lambda` target against moto (Lambda without Docker: it echoes the payload or returns queued results)."""

from __future__ import annotations

import io
import json

import pytest

from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.lambda_target import LambdaTarget, invocation_result
from opsgate.adapters.aws.target import Permission
from opsgate.domain.catalog import ActionSpec
from opsgate.errors import AutomationError

TARGET = LambdaTarget()
SECRET = "hunter2-very-secret"


@pytest.fixture
def dev(make_environment):
    return make_environment()


@pytest.fixture
def function(dev, clients_for, make_function):
    return make_function(clients_for(dev), "cache-flush")


def queue_results(moto_queue, env, results):
    moto_queue("lambda-simple/response", results, account_id=env.account, region=env.region)


# -- validate -------------------------------------------------------------------------------------

def test_validate_accepts_a_complete_action_with_templates():
    settings = {"function": "flush-{service}", "payload": {"env": "{env}"}, "invocation": "event",
                "qualifier": "live", "show_result": True}
    assert TARGET.validate(settings) == []


def test_validate_requires_the_function():
    assert TARGET.validate({"payload": {}}) == ["function: is required (a function name or ARN)"]


def test_validate_names_the_accepted_invocations():
    assert TARGET.validate({"function": "f", "invocation": "async"}) == [
        "invocation: must be request-response or event (got 'async')"]


def test_validate_rejects_unknown_keys_listing_the_allowed_ones():
    assert TARGET.validate({"function": "f", "timeout": 3}) == [
        "timeout: unknown key; the lambda action accepts kind, function, payload, invocation, qualifier, show_result"]


def test_validate_rejects_a_partial_arn_and_a_non_boolean_show_result():
    assert TARGET.validate({"function": "123456789012:function:f", "show_result": "maybe"}) == [
        "function: must be a function name or a full ARN (arn:aws:lambda:...)",
        "show_result: must be true or false"]


def test_validate_rejects_an_arn_of_another_service():
    assert TARGET.validate({"function": "arn:aws:states:eu-west-1:123456789012:stateMachine:f"}) == [
        "function: must be a function ARN (arn:aws:lambda:<region>:<account>:function:<name>)"]


def test_invalid_settings_need_no_permissions(dev):
    assert TARGET.permissions({"payload": {}}, dev) == []


# -- permissions and plan -------------------------------------------------------------------------

def test_permissions_name_the_function_arn_with_placeholders_as_wildcards(dev):
    assert TARGET.permissions({"function": "flush-{service}"}, dev) == [
        Permission("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:123456789012:function:flush-*")]


def test_permissions_of_a_qualified_invocation_name_the_qualified_arn(dev):
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:deploy"
    assert TARGET.permissions({"function": arn, "qualifier": "{stage}"}, dev) == [
        Permission("lambda:InvokeFunction", arn + ":*")]


def test_plan_shows_the_invoke_call_without_the_payload(dev, make_ctx):
    settings = {"function": "cache-flush", "payload": {"password": SECRET}, "invocation": "event"}
    [call] = TARGET.plan(settings, dev, make_ctx(dev))
    assert call.api == "lambda:Invoke"
    assert call.target == "arn:aws:lambda:eu-west-1:123456789012:function:cache-flush"
    payload_size = len(json.dumps({"password": SECRET}, separators=(",", ":")))
    assert call.parameters == {"FunctionName": "cache-flush", "InvocationType": "Event",
                               "Payload": f"<{payload_size} bytes of JSON>"}
    assert SECRET not in repr(call)


# -- run against moto -----------------------------------------------------------------------------

def test_run_invokes_the_function_with_the_filled_payload(dev, function, sessions, make_ctx):
    automation = AwsAutomation([TARGET], sessions)
    action = ActionSpec("lambda", {"function": "cache-flush", "payload": {"env": "{env}", "by": "{person}"},
                                   "show_result": True})
    result = automation.run(action, {"env": "dev"}, make_ctx(dev))
    assert result.ok and not result.pending
    # moto echoes the payload it was sent: the templates were filled before the call.
    assert result.summary == 'Invoked cache-flush (200): `{"env":"dev","by":"alice"}`'
    assert result.output == {"status_code": 200, "result": {"env": "dev", "by": "alice"}}
    assert result.correlation["function_arn"] == function
    assert result.correlation["aws_request_id"]


def test_run_never_shows_the_payload_or_result_without_show_result(dev, function, clients_for, make_ctx):
    settings = {"function": "cache-flush", "payload": {"password": SECRET}}
    result = TARGET.run(clients_for(dev), settings, make_ctx(dev))
    assert result.ok
    assert result.summary == "Invoked cache-flush (200)"
    assert SECRET not in repr(result)


def test_run_shows_a_queued_small_result_only(dev, function, clients_for, make_ctx, moto_queue):
    queue_results(moto_queue, dev, [json.dumps({"flushed": 12}), json.dumps({"keys": ["k" * 40] * 10})])
    settings = {"function": function, "show_result": True}  # named by ARN this time
    small = TARGET.run(clients_for(dev), settings, make_ctx(dev))
    large = TARGET.run(clients_for(dev), settings, make_ctx(dev))
    assert small.summary == f'Invoked {function} (200): `{{"flushed":12}}`'
    assert large.summary == f"Invoked {function} (200)"  # over 300 characters: not in chat
    assert "result" not in large.output


def test_event_invocations_are_queued(dev, function, clients_for, make_ctx):
    result = TARGET.run(clients_for(dev), {"function": "cache-flush", "invocation": "event"}, make_ctx(dev))
    assert result.ok
    assert result.summary == "Queued cache-flush (202)"


def test_a_function_error_from_moto_fails_the_run(dev, function, clients_for, make_ctx, moto_queue):
    # moto's one FunctionError: a result over 6 MB becomes Lambda's "Unhandled" ResponseSizeTooLarge error.
    queue_results(moto_queue, dev, ["x" * 6_100_000])
    result = TARGET.run(clients_for(dev), {"function": "cache-flush"}, make_ctx(dev))
    assert not result.ok
    assert result.summary.startswith("cache-flush failed (200): Function.ResponseSizeTooLarge: Response payload size")
    assert result.output["error_type"] == "Function.ResponseSizeTooLarge"
    assert result.correlation["aws_request_id"]


def test_a_handled_function_error_carries_its_type_and_a_truncated_message():
    # moto cannot make a function raise; this is the shape Lambda returns when it does.
    body = {"errorMessage": "database refused: " + "x" * 900, "errorType": "OperationalError",
            "stackTrace": ["  File \"/var/task/handler.py\", line 3"]}
    response = {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                "ResponseMetadata": {"RequestId": "6f1c-request"},
                "Payload": io.BytesIO(json.dumps(body).encode())}
    result = invocation_result("cache-flush", "arn:fn", response, show_result=True)
    assert not result.ok
    assert result.summary.startswith("cache-flush failed (200): OperationalError: database refused: xxx")
    assert len(result.output["error_message"]) == 500 and result.output["error_message"].endswith("…")
    assert "stackTrace" not in result.summary and "handler.py" not in repr(result)
    assert result.correlation == {"function_arn": "arn:fn", "aws_request_id": "6f1c-request"}


def test_a_missing_function_is_an_automation_error_naming_it(dev, sessions, make_ctx, moto_config):
    # moto's Docker-less Lambda answers for any name; its standard backend looks the function up
    # first (and would only then need Docker), which is the AWS behaviour under test.
    moto_config({"lambda": {"use_docker": True}})
    automation = AwsAutomation([TARGET], sessions)
    with pytest.raises(AutomationError) as caught:
        automation.run(ActionSpec("lambda", {"function": "no-such-fn"}), {}, make_ctx(dev))
    assert "not found" in caught.value.message and "no-such-fn" in caught.value.message


def test_a_filled_invocation_that_is_not_allowed_stops_before_any_call(dev, sessions, make_ctx):
    automation = AwsAutomation([TARGET], sessions)
    action = ActionSpec("lambda", {"function": "cache-flush", "invocation": "{mode}"})
    with pytest.raises(AutomationError, match="invocation: must be request-response or event"):
        automation.run(action, {"mode": "dry-run"}, make_ctx(dev))


def test_poll_refuses_because_invocations_finish_at_once(dev, clients_for, make_ctx):
    with pytest.raises(AutomationError, match="finish at once"):
        TARGET.poll(clients_for(dev), {"function": "f"}, make_ctx(dev), {})
