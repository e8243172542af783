"""The `lambda` target: invoke a function with a JSON payload built from the command's parameters.

```yaml
action: {kind: lambda, function: cache-flush, payload: {env: "{env}"}, invocation: request-response}
```
The payload may carry secret parameter values, so it is never echoed: not in summaries, and a plan
shows only its size. A function's own result is shown only when the command author opts in with
`show_result: true`, and only when it is small.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import compact_json, parse_json, shorten
from opsgate.adapters.aws.names import resource_arn, wildcard_placeholders
from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.settings_check import (
    choice,
    ensure_valid,
    flag,
    flag_problems,
    name_or_arn,
    optional_text,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("function", "payload", "invocation", "qualifier", "show_result")
INVOCATION_TYPES = {"request-response": "RequestResponse", "event": "Event"}


def function_arn(environment: Environment, function: str, qualifier: str | None = None) -> str:
    """The ARN IAM checks: a qualified invocation needs the qualified ARN (`...:function:f:live`)."""
    base = resource_arn(environment, "lambda", "function", function)
    unqualified = base.count(":") == 6  # arn:aws:lambda:<region>:<account>:function:<name>
    return f"{base}:{qualifier}" if qualifier and unqualified else base


def payload_json(settings: dict[str, Any]) -> str:
    return json.dumps(settings.get("payload", {}), separators=(",", ":"), ensure_ascii=False)


def invoke_request(settings: dict[str, Any]) -> dict[str, Any]:
    """The Invoke call's parameters; `run` sends them and `plan` shows them (payload masked)."""
    request: dict[str, Any] = {
        "FunctionName": settings["function"],
        "InvocationType": INVOCATION_TYPES[settings.get("invocation", "request-response")],
        "Payload": payload_json(settings).encode(),
    }
    if settings.get("qualifier"):
        request["Qualifier"] = settings["qualifier"]
    return request


def invocation_result(function: str, arn: str, response: dict[str, Any], *, show_result: bool) -> RunResult:
    """Turn an Invoke response into a RunResult: FunctionError fails it, 202 is queued."""
    status = int(response.get("StatusCode", 0))
    correlation = {"function_arn": arn}
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    if request_id:
        correlation["aws_request_id"] = request_id
    body = response["Payload"].read() if response.get("Payload") is not None else b""
    if response.get("FunctionError"):
        return _function_failed(function, status, body, correlation)
    if status == 202:
        return RunResult(ok=True, summary=f"Queued {function} (202)", output={"status_code": status},
                         correlation=correlation)
    summary = f"Invoked {function} ({status})"
    output: dict[str, Any] = {"status_code": status}
    if show_result:
        result = parse_json(body) if body else None
        shown = compact_json(result)
        if shown is not None:
            summary += f": `{shown}`"
            output["result"] = result
    return RunResult(ok=True, summary=summary, output=output, correlation=correlation)


def _function_failed(function: str, status: int, body: bytes, correlation: dict[str, str]) -> RunResult:
    # The function ran and raised: Lambda answers 200 with the error in the payload.
    error = parse_json(body)
    if isinstance(error, dict):
        error_type = shorten(str(error.get("errorType", "Error")), 100)
        message = shorten(str(error.get("errorMessage", "")))
    else:
        error_type, message = "Error", shorten(str(error))
    summary = f"{function} failed ({status}): {error_type}" + (f": {message}" if message else "")
    return RunResult(ok=False, summary=summary, correlation=correlation,
                     output={"status_code": status, "error_type": error_type, "error_message": message})


class LambdaTarget(OneShot):
    kind: ClassVar[str] = "lambda"
    service: ClassVar[str] = "lambda"  # IAM prefix, for messages and policies

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += name_or_arn(settings, "function", "lambda", "function", "function")
        problems += choice(settings, "invocation", tuple(INVOCATION_TYPES))
        problems += optional_text(settings, "qualifier", "a version or alias name")
        problems += flag_problems(settings, "show_result")
        if "payload" in settings and not isinstance(settings["payload"], (dict, list, str)):
            problems.append("payload: must be a mapping, a list or a text template")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        if not isinstance(settings.get("function"), str):
            return []  # invalid settings (validate says why) grant nothing, certainly not `*`
        function = wildcard_placeholders(settings["function"])
        qualifier = settings.get("qualifier")
        qualifier = wildcard_placeholders(qualifier) if isinstance(qualifier, str) else None
        return [Permission("lambda:InvokeFunction", function_arn(environment, function, qualifier))]

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        request = invoke_request(settings)
        request["Payload"] = f"<{len(request['Payload'])} bytes of JSON>"  # may hold secret values
        arn = function_arn(environment, settings["function"], settings.get("qualifier"))
        return [PlannedCall(api="lambda:Invoke", target=arn, parameters=request)]

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        response = clients.client("lambda").invoke(**invoke_request(settings))
        arn = function_arn(clients.environment, settings["function"], settings.get("qualifier"))
        return invocation_result(settings["function"], arn, response, show_result=flag(settings, "show_result"))
