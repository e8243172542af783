"""map_boto_errors on real botocore errors: from moto, from closed and silent ports, and on the
ClientError shapes AWS sends that moto does not produce (AccessDenied, Throttling, 500)."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.exceptions import ClientError

from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.session import SessionFactory
from opsgate.errors import AutomationError

ROLE = "arn:aws:iam::123456789012:role/opsgate-prod"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:cache-flush"


def client_error(code: str, message: str, status: int, operation: str = "Invoke") -> ClientError:
    """A ClientError exactly as botocore builds it from an AWS error answer."""
    response = {"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"RequestId": "req-1234", "HTTPStatusCode": status, "RetryAttempts": 4}}
    return ClientError(response, operation)


def translated_call(call, **where) -> AutomationError:
    with pytest.raises(AutomationError) as caught, map_boto_errors(**where):
        call()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no botocore traceback
    return caught.value


def translated(error: BaseException, **where) -> AutomationError:
    def fail():
        raise error

    return translated_call(fail, **where)


@pytest.fixture
def dev(make_environment):
    return make_environment()


def test_a_missing_function_from_moto_is_not_found_naming_it(dev, clients_for, moto_config):
    moto_config({"lambda": {"use_docker": True}})  # the backend that looks functions up (see test_lambda_target)
    lam = clients_for(dev).client("lambda")
    with pytest.raises(AutomationError) as caught, map_boto_errors(service="lambda", resource="no-such-fn"):
        lam.invoke(FunctionName="no-such-fn")
    assert caught.value.message.startswith("no-such-fn was not found (lambda:Invoke): Function not found: ")
    assert "function:no-such-fn" in caught.value.message
    assert caught.value.correlation["aws_request_id"]


def test_a_missing_state_machine_from_moto_is_not_found(dev, clients_for):
    sfn = clients_for(dev).client("stepfunctions")
    missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:nope"
    error = translated_call(lambda: sfn.start_execution(stateMachineArn=missing, name="r-1"), service="states")
    assert error.message.startswith("The resource was not found (states:StartExecution): ")
    assert missing in error.message


def test_access_denied_names_the_role_the_action_and_the_resource():
    error = translated(client_error("AccessDeniedException", "User is not authorized to perform lambda:InvokeFunction",
                                    403), service="lambda", role_arn=ROLE, resource=FUNCTION)
    assert error.message == (f"AWS denied lambda:Invoke on {FUNCTION} to role {ROLE}: User is not authorized to "
                             "perform lambda:InvokeFunction. Grant it in the environment role's policy "
                             "(`opsgate iam-policy`).")
    assert error.correlation == {"aws_request_id": "req-1234"}


def test_access_denied_without_a_role_blames_opsgates_own_credentials():
    error = translated(client_error("AccessDenied", "", 403, "DescribeAlarms"), service="cloudwatch")
    assert error.message.startswith("AWS denied cloudwatch:DescribeAlarms to opsgate's credentials: AccessDenied.")


def test_throttling_that_outlasted_the_retries_says_to_try_later():
    error = translated(client_error("Throttling", "Rate exceeded", 400, "StartExecution"), service="states",
                       role_arn=ROLE, resource="arn:aws:states:eu-west-1:123456789012:stateMachine:release")
    assert error.message == ("AWS kept throttling states:StartExecution on "
                             "arn:aws:states:eu-west-1:123456789012:stateMachine:release after retries; "
                             "try again in a minute.")


def test_a_server_error_that_outlasted_the_retries_is_reported_as_aws_failing():
    error = translated(client_error("InternalFailure", "", 500), service="lambda", resource=FUNCTION)
    assert error.message == (f"AWS failed lambda:Invoke on {FUNCTION} with a server error after retries "
                             "(InternalFailure).")


def test_refused_credentials_are_not_blamed_on_the_policy():
    error = translated(client_error("ExpiredTokenException", "The security token included in the request is expired",
                                    403), service="lambda", role_arn=ROLE)
    assert error.message.startswith(f"AWS did not accept the session for role {ROLE} for lambda:Invoke: "
                                    "The security token included in the request is expired.")
    assert "Grant it" not in error.message


def test_any_other_refusal_keeps_aws_code_and_message():
    error = translated(client_error("ValidationException", "1 validation error detected", 400, "GetCostAndUsage"),
                       service="ce")
    assert error.message == "AWS refused ce:GetCostAndUsage: ValidationException: 1 validation error detected"


def test_a_closed_port_is_could_not_reach_aws(dev, make_ctx):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    factory = SessionFactory(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1, connect_timeout_s=0.5,
                             read_timeout_s=0.5)
    lam = factory.client("lambda", dev, make_ctx(dev))
    error = translated_call(lambda: lam.invoke(FunctionName="f"), service="lambda")
    assert error.message.startswith(f"Could not reach AWS at http://127.0.0.1:{port}/")


def test_an_endpoint_that_never_answers_is_a_timeout(dev, make_ctx):
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        factory = SessionFactory(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1, connect_timeout_s=0.5,
                                 read_timeout_s=0.3)
        lam = factory.client("lambda", dev, make_ctx(dev))
        error = translated_call(lambda: lam.invoke(FunctionName="f"), service="lambda", resource=FUNCTION)
    assert error.message == f"AWS did not answer in time (lambda on {FUNCTION}): ReadTimeoutError."


def test_invalid_parameters_are_reported_before_any_call(dev, clients_for):
    lam = clients_for(dev).client("lambda")
    error = translated_call(lambda: lam.invoke(FunctionName=42), service="lambda")
    assert error.message.startswith("The call's parameters are invalid: ")
    assert "FunctionName" in error.message


def test_no_credentials_at_all_says_where_they_come_from(monkeypatch, tmp_path, aws_endpoint):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sqs = boto3.session.Session().client("sqs", region_name="eu-west-1", endpoint_url=aws_endpoint)
    error = translated_call(sqs.list_queues, service="sqs")
    assert error.message.startswith("No AWS credentials: set a role_arn for the environment")


def test_automation_errors_pass_through_untouched():
    original = AutomationError("already explained", correlation={"x": "1"})
    with pytest.raises(AutomationError) as caught, map_boto_errors(service="lambda"):
        raise original
    assert caught.value is original

