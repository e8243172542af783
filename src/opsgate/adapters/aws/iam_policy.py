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

from opsgate.adapters.aws.target import Permission, Target
from opsgate.domain.catalog import Command, Environment

POLICY_VERSION = "2012-10-17"
# Where an API's signing name or operation differs from its IAM action name.
IAM_SERVICE = {"monitoring": "cloudwatch"}
IAM_OPERATION = {("lambda", "Invoke"): "InvokeFunction"}


def iam_action(signing_name: str, operation: str) -> str:
    """The IAM action a botocore call needs: ("lambda", "Invoke") → "lambda:InvokeFunction"."""
    return f"{IAM_SERVICE.get(signing_name, signing_name)}:{IAM_OPERATION.get((signing_name, operation), operation)}"


def collect(commands: Iterable[Command], environment: Environment, targets: Mapping[str, Target]) -> list[Permission]:
    """Every permission the commands' actions need in `environment`; kinds without a target (builtin,
    or another cloud) need none here."""
    needed: set[Permission] = set()
    for command in commands:
        target = targets.get(command.action.kind) if command.action else None
        if target is not None:
            needed.update(target.permissions(command.action.settings, environment))
    return sorted(needed, key=lambda p: (p.action, p.resource))


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
