"""botocore exceptions → AutomationError with a message a person can act on.

Like httpx's `map_httpcore_exceptions`: the one place foreign exceptions are translated. Retries of
throttling and 5xx happen inside botocore (standard mode); what reaches here has persisted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from opsgate import metrics
from opsgate.errors import AutomationError

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
                 "AuthorizationError", "AuthorizationErrorException"}
# Refused credentials (bad key, bad signature, expired session) are not a policy problem: granting
# more in the role's policy would not help, so they get their own message.
BAD_CREDENTIALS = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                   "IncompleteSignature", "InvalidAccessKeyId", "ExpiredToken", "ExpiredTokenException",
                   "RequestExpired"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
             "ThrottledException", "SlowDown", "ProvisionedThroughputExceededException"}


def _kind(code: str, status: int) -> str:
    """The metric kind of a ClientError (a fixed set: codes are not labels)."""
    if code in BAD_CREDENTIALS:
        return "credentials"
    if code in ACCESS_DENIED or status == 403:
        return "access_denied"
    if code in THROTTLED or status == 429:
        return "throttled"
    if "NotFound" in code or "DoesNotExist" in code or code in {"NoSuchEntity", "DocumentNotFound"}:
        return "not_found"
    return "server" if status >= 500 else "refused"


def _operation(err: ClientError) -> str:
    return getattr(err, "operation_name", "") or "the call"


@contextmanager
def map_boto_errors(*, service: str = "", role_arn: str | None = None, resource: str | None = None) -> Iterator[None]:
    """Translate what botocore raises inside the block. `resource` and `role_arn` name what was
    being touched and as whom, so AccessDenied says which role may not do what on which resource."""
    try:
        yield
    except AutomationError:
        raise
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip()
        request_id = err.response.get("ResponseMetadata", {}).get("RequestId", "")
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        action = f"{service}:{_operation(err)}" if service else _operation(err)
        on = f" on {resource}" if resource else ""
        correlation = {"aws_request_id": request_id} if request_id else {}
        metrics.AWS_ERRORS.labels(service or "aws", _kind(code, status)).inc()
        if code in BAD_CREDENTIALS:
            who = f"the session for role {role_arn}" if role_arn else "opsgate's credentials"
            raise AutomationError(f"AWS did not accept {who} for {action}{on}: {message or code}. "
                                  "Check opsgate's own AWS credentials and the machine's clock.",
                                  correlation=correlation) from None
        if code in ACCESS_DENIED or status == 403:
            who = f"role {role_arn}" if role_arn else "opsgate's credentials"
            raise AutomationError(f"AWS denied {action}{on} to {who}: {message or code}. "
                                  "Grant it in the environment role's policy (`opsgate iam-policy`).",
                                  correlation=correlation) from None
        if code in THROTTLED or status == 429:
            raise AutomationError(f"AWS kept throttling {action}{on} after retries; try again in a minute.",
                                  correlation=correlation) from None
        if "NotFound" in code or code in {"NoSuchEntity", "ResourceNotFound", "DeploymentGroupDoesNotExistException",
                                           "ApplicationDoesNotExistException", "ServiceNotFoundException",
                                           "ClusterNotFoundException", "PipelineNotFoundException",
                                           "StateMachineDoesNotExist", "ExecutionDoesNotExist",
                                           "DeploymentDoesNotExistException", "DeploymentGroupNameRequiredException",
                                           "InvalidDocument", "DocumentNotFound"}:
            raise AutomationError(f"{resource or 'The resource'} was not found ({action}): {message or code}.",
                                  correlation=correlation) from None
        if status >= 500:
            raise AutomationError(f"AWS failed {action}{on} with a server error after retries ({code}).",
                                  correlation=correlation) from None
        raise AutomationError(f"AWS refused {action}{on}: {code}: {message}".rstrip(": "), correlation=correlation) from None
    except (ConnectTimeoutError, ReadTimeoutError) as err:
        metrics.AWS_ERRORS.labels(service or "aws", "timeout").inc()
        raise AutomationError(f"AWS did not answer in time ({service or 'call'}{' on ' + resource if resource else ''}): "
                              f"{type(err).__name__}.") from None
    except EndpointConnectionError as err:
        metrics.AWS_ERRORS.labels(service or "aws", "unreachable").inc()
        raise AutomationError(f"Could not reach AWS at {err.kwargs.get('endpoint_url', 'the endpoint')}.") from None
    except NoCredentialsError:
        metrics.AWS_ERRORS.labels(service or "aws", "credentials").inc()
        raise AutomationError("No AWS credentials: set a role_arn for the environment or give opsgate "
                              "credentials through the default chain (environment, profile, instance role).") from None
    except ParamValidationError as err:
        metrics.AWS_ERRORS.labels(service or "aws", "invalid").inc()
        raise AutomationError(f"The call's parameters are invalid: {err}") from None
    except BotoCoreError as err:
        metrics.AWS_ERRORS.labels(service or "aws", "other").inc()
        raise AutomationError(f"AWS call failed: {type(err).__name__}: {err}") from None
