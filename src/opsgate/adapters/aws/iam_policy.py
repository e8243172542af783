"""IAM policies for an environment's opsgate role, generated from what the catalog's actions need.

- `collect` asks each AWS target what its commands' actions need (`Target.permissions`);
- `policy_for` turns that into the role's permission policy, one statement per IAM action;
- `trust_policy` lets opsgate assume the role only when it names the person (SourceIdentity);
- `CallRecorder` records every call botocore makes, so a test can show the policy covers them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opsgate.adapters.aws.target import Permission, Target, arn
from opsgate.core.automation import SUMMARY, summary_parts
from opsgate.domain.catalog import Command, Environment, ParamType
from opsgate.domain.intake import IntakeQueue
from opsgate.domain.templates import fill

POLICY_VERSION = "2012-10-17"
# Where an API's signing name or operation differs from its IAM action name.
IAM_SERVICE = {"monitoring": "cloudwatch"}
IAM_OPERATION = {("lambda", "Invoke"): "InvokeFunction", ("budgets", "DescribeBudget"): "ViewBudget"}


def iam_action(signing_name: str, operation: str) -> str:
    """The IAM action a botocore call needs: ("lambda", "Invoke") → "lambda:InvokeFunction"."""
    return f"{IAM_SERVICE.get(signing_name, signing_name)}:{IAM_OPERATION.get((signing_name, operation), operation)}"


def collect(commands: Iterable[Command], environment: Environment, targets: Mapping[str, Target]) -> list[Permission]:
    """Every permission the commands' actions need in `environment`; kinds without a target (builtin,
    or another cloud) need none here."""
    needed: set[Permission] = set()
    for command in commands:
        actions = [] if command.action is None else (
            summary_parts(command.action) if command.action.kind == SUMMARY else [command.action])
        for known in _known_values(command, environment):
            for action in actions:
                target = targets.get(action.kind)
                if target is not None:  # placeholders with known values give exact ARNs
                    needed.update(target.permissions(fill(action.settings, known), environment))
    if environment.approval_queue:
        needed.update(queue_permissions(environment))
    return sorted(needed, key=lambda p: (p.action, p.resource))


MAX_COMBINATIONS = 64  # beyond this, enum placeholders stay `*` rather than listing every ARN


def _known_values(command: Command, environment: Environment) -> list[dict[str, str]]:
    """Values placeholders can take in `environment`: its own name and account, and every value of
    each enum parameter (one dict per combination). Other placeholders stay and become `*`."""
    base = {"environment_account": environment.account, "environment_region": environment.region}
    if command.environment_parameter is not None:
        base[command.environment_parameter.name] = environment.name
    enums = [p for p in command.parameters if p.type is ParamType.ENUM and p.values]
    combinations = [base]
    for param in enums:
        if len(combinations) * len(param.values) > MAX_COMBINATIONS:
            break
        combinations = [{**known, param.name: value} for known in combinations for value in param.values]
    return combinations


def queue_permissions(environment: Environment) -> list[Permission]:
    """What reading the environment's approval queue needs (opsgate's background job)."""
    queue = arn(environment, "sqs", environment.approval_queue or "")
    return [Permission(f"sqs:{action}", queue) for action in ("GetQueueUrl", "ReceiveMessage", "DeleteMessage")]


def intake_queue_permissions(environment: Environment, queues: Iterable[IntakeQueue]) -> list[Permission]:
    """What reading the catalog's intake queues with this environment's role needs (`opsgate
    worker`); DeleteMessageBatch is authorised as sqs:DeleteMessage."""
    needed = []
    for queue in queues:
        if queue.environment == environment.name:
            resource = (f"arn:aws:sqs:{queue.region or environment.region}:{queue.account or environment.account}:"
                        f"{queue.name}")
            needed += [Permission(f"sqs:{action}", resource) for action in ("GetQueueUrl", "ReceiveMessage", "DeleteMessage")]
    return needed


def alert_context_permissions(environment: Environment, log_groups: Iterable[str] = ()) -> list[Permission]:
    """What the chart and log lines next to an alarm's message need (adapters/aws/alert_context.py):
    reading the alarm and drawing its metric (neither API has resource-level permissions), and
    Logs Insights queries on the configured log groups (StartQuery is checked on the log group;
    results and stopping are not resource-scoped)."""
    needed = [Permission("cloudwatch:DescribeAlarms", "*"), Permission("cloudwatch:GetMetricWidgetImage", "*")]
    groups = sorted(set(log_groups))
    for group in groups:
        log_group = arn(environment, "logs", f"log-group:{group}")
        needed += [Permission("logs:StartQuery", log_group), Permission("logs:StartQuery", f"{log_group}:*")]
    if groups:
        needed += [Permission("logs:GetQueryResults", "*"), Permission("logs:StopQuery", "*")]
    return needed


def policy_for(environment: Environment, actions: Iterable[Permission]) -> dict[str, Any]:
    """The permission policy: one Allow statement per action, its resources sorted and unique."""
    resources: dict[str, set[str]] = {}
    for permission in actions:
        resources.setdefault(permission.action, set()).add(permission.resource)
    prefix = _sid_words(environment.name)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": prefix + _sid_words(action), "Effect": "Allow", "Action": action,
             "Resource": sorted(resources[action])}
            for action in sorted(resources)
        ],
    }


def trust_policy(opsgate_principal_arn: str) -> dict[str, Any]:
    """Who may assume the environment role: opsgate, only with a SourceIdentity (the person) and
    a session named `opsgate-<request id>`, so every call in CloudTrail names who asked."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{
            "Sid": "OpsgateAssumesAsThePerson",
            "Effect": "Allow",
            "Principal": {"AWS": opsgate_principal_arn},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {
                "Null": {"sts:SourceIdentity": "false"},
                "StringLike": {"sts:RoleSessionName": "opsgate-*"},
            },
        }],
    }


def _sid_words(text: str) -> str:
    """Statement ids are alphanumeric: "lambda:InvokeFunction" → "LambdaInvokeFunction"."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", text) if word)


@dataclass(frozen=True, slots=True)
class RecordedCall:
    service: str  # the signing name: "states", "monitoring", "lambda", "ce", "sts"
    operation: str  # the API operation: "StartExecution", "Invoke"
    params: dict[str, Any]

    @property
    def action(self) -> str:
        return iam_action(self.service, self.operation)


class CallRecorder:
    """Records each call (service, operation, parameters) made through a session or client.

    Attach it to a boto3 Session before creating clients (they copy the session's handlers), or to
    a client. Attaching twice to the same session or client records each call once.
    """

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        self._lock = threading.Lock()

    def attach(self, session_or_client: Any) -> None:
        events = getattr(session_or_client, "events", None) or session_or_client.meta.events
        events.register("provide-client-params.*.*", self._record, unique_id=f"opsgate-call-recorder-{id(self)}")

    def actions(self) -> set[str]:
        with self._lock:
            return {call.action for call in self.calls}

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append(RecordedCall(model.service_model.signing_name, model.name, dict(params)))
