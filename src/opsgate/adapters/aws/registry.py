"""Every AWS target kind opsgate ships, in one list for the composition root."""

from __future__ import annotations

from opsgate.adapters.aws.alarms_target import AlarmsTarget
from opsgate.adapters.aws.codedeploy_target import CodeDeployTarget
from opsgate.adapters.aws.codepipeline_target import CodePipelineTarget
from opsgate.adapters.aws.cost_target import CostTarget
from opsgate.adapters.aws.deployments_target import DeploymentsTarget
from opsgate.adapters.aws.ecs_target import EcsTarget
from opsgate.adapters.aws.lambda_target import LambdaTarget
from opsgate.adapters.aws.ssm_target import SsmAutomationTarget
from opsgate.adapters.aws.stepfunctions_target import StepFunctionsTarget
from opsgate.adapters.aws.target import Target
from opsgate.adapters.aws.task_token_target import TaskTokenTarget

# Kinds opsgate uses for requests it opens itself; a catalog cannot declare them.
INTERNAL_KINDS = frozenset({TaskTokenTarget.kind})


def all_targets() -> list[Target]:
    return [LambdaTarget(), StepFunctionsTarget(), SsmAutomationTarget(), CodeDeployTarget(), EcsTarget(),
            CodePipelineTarget(), AlarmsTarget(), CostTarget(), DeploymentsTarget(), TaskTokenTarget()]
