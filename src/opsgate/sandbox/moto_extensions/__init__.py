"""What moto 5.2.5 lacks for opsgate's targets, added to moto's own `*Response` classes.

moto dispatches an action to the snake_case method of the same name on the service's Response
class, in-process (`mock_aws`) and in a `ThreadedMotoServer` alike, so `install()` adds or wraps
methods there. One module per service; each keeps its state in a small backend keyed by account
and region (a moto `BackendDict`, so `/moto-api/reset` and `mock_aws` empty it with everything
else). Work advances one step per read (GetAutomationExecution, GetDeployment, DescribeServices),
so tests drive it to the end without sleeping. The `fail_*` hooks make work fail on purpose; they
act on the process's moto state, so they reach a ThreadedMotoServer running in the same process.
"""

from __future__ import annotations

import threading

from opsgate.sandbox.moto_extensions import ce, cloudwatch, codedeploy, codepipeline, ecs, sqs, ssm_automation
from opsgate.sandbox.moto_extensions import cloudwatch_widget, logs_insights
from opsgate.sandbox.moto_extensions.codedeploy import fail_deployments
from opsgate.sandbox.moto_extensions.ecs import fail_rollouts
from opsgate.sandbox.moto_extensions.logs_insights import hold_queries
from opsgate.sandbox.moto_extensions.ssm_automation import FAIL_VALUE, fail_automations

__all__ = ["FAIL_VALUE", "fail_automations", "fail_deployments", "fail_rollouts", "hold_queries", "install"]

_SERVICES = (ssm_automation, codedeploy, codepipeline, cloudwatch, ecs, sqs, ce, cloudwatch_widget, logs_insights)
_lock = threading.Lock()


def install() -> None:
    """Put the extensions on moto's Response classes. Idempotent: the same functions are set again."""
    with _lock:
        for service in _SERVICES:
            for response_class, members in service.EXTENSIONS.items():
                for name, member in members.items():
                    setattr(response_class, name, member)
