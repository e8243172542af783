"""The contract every AWS target implements, and what it is given to work with.

A target is one `kind` of catalog action (`lambda`, `stepfunctions`, ...). It never creates
sessions or catches botocore errors itself: `AwsAutomation` fills the settings' templates, hands
the target clients bound to the environment's role (session named after the request, carrying the
person), and translates errors at the edge with `map_boto_errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult


@dataclass(frozen=True, slots=True)
class Permission:
    """One IAM statement line a target needs: `lambda:InvokeFunction` on an ARN (may hold `*`)."""

    action: str
    resource: str


class Clients(Protocol):
    """Clients for one environment and one request (credentials cached for the request)."""

    environment: Environment

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for `service` in the environment's account, in its region unless
        `region` is given (global services such as Cost Explorer live in us-east-1)."""
        ...


class Target(Protocol):
    kind: ClassVar[str]
    service: ClassVar[str]  # the IAM prefix of its calls (states, ce, ...), used in error messages

    def validate(self, settings: dict[str, Any]) -> list[str]:
        """Config-time check of the action's settings (templates not filled). Problems are
        `"<key path>: <message>"` strings, e.g. `"function: is required"`."""
        ...

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        """IAM actions and resource ARNs this action needs in `environment`. Settings are not
        filled: a `{placeholder}` inside a resource name becomes `*`."""
        ...

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        """The calls `run` would make with these (filled) settings; makes none."""
        ...

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        """Make the calls. Long-running work returns pending=True and a checkpoint."""
        ...

    def poll(self, clients: Clients, settings: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        """Follow pending work from its checkpoint; targets that finish at once raise AutomationError."""
        ...


def arn(environment: Environment, service: str, resource: str, *, region: bool = True) -> str:
    """`arn:aws:<service>:<region>:<account>:<resource>` for the environment."""
    return f"arn:aws:{service}:{environment.region if region else ''}:{environment.account}:{resource}"
