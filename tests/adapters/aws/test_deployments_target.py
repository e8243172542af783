"""The `deployments` target over HTTP against the sandbox: CodePipeline executions (who started
them, what they built, which waits for an approval), CodeDeploy deployments and ECS roll-outs, each
source read on its own; the IAM policy it asks for covers every call it makes."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from opsgate.adapters.aws.deployments_target import DeploymentsTarget
from opsgate.adapters.aws.iam_policy import CallRecorder
from opsgate.adapters.aws.target import Permission
from opsgate.domain.deployment import Deployment, Phase
from opsgate.errors import AutomationError
from opsgate.sandbox.seed import (
    CURRENT_RELEASE,
    RELEASE_HISTORY,
    seed_approval_queue,
    seed_codedeploy,
    seed_ecs,
    seed_iam,
    seed_pipeline,
)
from tests.adapters.aws.sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROD,
    PROD_ACCOUNT,
    prod_clients,
    run_ctx,
    sandbox_endpoint,
)

TARGET = DeploymentsTarget()
WEB = {"pipeline": "web-release", "codedeploy": {"application": "web", "deployment_group": "prod"},
       "ecs": {"cluster": "acme", "service": "web"}}
HISTORY = {"view": "history", "services": {"web": WEB}}


@pytest.fixture
def clients(prod_clients):
    seed_iam(prod_clients.client, PROD_ACCOUNT)
    _, topic_arn = seed_approval_queue(prod_clients.client)
    seed_pipeline(prod_clients.client, PROD_ACCOUNT, topic_arn)  # three past releases, the fourth waits
    seed_codedeploy(prod_clients.client, PROD_ACCOUNT)  # web-1.0.0 and web-1.1.0, both Succeeded
    seed_ecs(prod_clients.client, PROD_ACCOUNT)  # web runs web:2
    return prod_clients


def found(result) -> list[Deployment]:
    return [Deployment.from_dict(d) for d in result.output["deployments"]]


# -- validate, permissions, plan ------------------------------------------------------------------

def test_validate_accepts_services_with_any_of_the_sources_and_templates():
    assert TARGET.validate({"view": "status", "service": "{service}", "last": "{last}", "services": {
        "web": {**WEB, "codedeploy": {"application": "web", "deployment_group": "{env}"}}, "api": {}}}) == []


def test_validate_reports_each_problem_with_its_path():
    problems = TARGET.validate({"view": "everything", "last": 500, "service": "db", "extra": 1, "services": {
        "web": {"pipeline": "", "codedeploy": {"application": "web"}, "lambda": "x"}, "api": "api-release"}})
    assert problems == [
        "extra: unknown key; the deployments action accepts kind, services, service, view, last",
        "view: must be status, history or in-flight (got 'everything')",
        "last: must be a whole number from 1 to 50",
        "services.web.lambda: unknown key; a service lists pipeline, codedeploy, ecs",
        "services.web.pipeline: must be a pipeline name",
        "services.web.codedeploy.deployment_group: is required (a name)",
        "services.api: must be a mapping with any of pipeline, codedeploy, ecs",
        "service: 'db' is not one of the services (web, api)",
    ]
    assert TARGET.validate({"view": "history"}) == [
        "services: is required: a mapping of service names to where their deployments are, "
        "e.g. {web: {pipeline: web-release, ecs: {cluster: acme, service: web}}}"]


def test_permissions_are_the_reads_of_each_source_with_placeholders_as_wildcards():
    settings = {"services": {"web": {**WEB, "codedeploy": {"application": "web", "deployment_group": "{env}"},
                                     "commands": ["rollback"]}}}
    pipeline = "arn:aws:codepipeline:eu-west-1:333333333333:web-release"
    group = "arn:aws:codedeploy:eu-west-1:333333333333:deploymentgroup:web/*"
    assert TARGET.permissions(settings, PROD) == [
        Permission("codepipeline:ListPipelineExecutions", pipeline), Permission("codepipeline:GetPipelineState", pipeline),
        Permission("codedeploy:ListDeployments", group), Permission("codedeploy:BatchGetDeployments", group),
        Permission("ecs:DescribeServices", "arn:aws:ecs:eu-west-1:333333333333:service/acme/web")]


def test_plan_lists_the_reads_of_the_chosen_service_only(run_ctx):
    settings = {"service": "api", "services": {"web": WEB, "api": {"ecs": {"cluster": "acme", "service": "api"}}}}
    assert [(c.api, c.target) for c in TARGET.plan(settings, PROD, run_ctx)] == [
        ("ecs:DescribeServices", "arn:aws:ecs:eu-west-1:333333333333:service/acme/api")]


# -- run ------------------------------------------------------------------------------------------

def test_history_reads_every_source_with_who_started_what_and_how_it_ended(clients, run_ctx):
    result = TARGET.run(clients, HISTORY, run_ctx)
    assert result.ok and result.output["problems"] == []
    by_source: dict[str, list[Deployment]] = {}
    for deployment in found(result):
        by_source.setdefault(deployment.source, []).append(deployment)
    pipeline = by_source["codepipeline"]
    assert [(d.revision, d.started_by, d.phase) for d in pipeline] == [
        (CURRENT_RELEASE[0], CURRENT_RELEASE[1], Phase.WAITING),
        *[(key, person, Phase.SUCCEEDED if answer == "Approved" else Phase.FAILED)
          for key, person, _, answer in reversed(RELEASE_HISTORY)]]
    assert pipeline[0].detail == "waits for approval at Approve/ProdApproval" and pipeline[0].ended is None
    assert pipeline[1].detail == "smoke tests failed in staging"
    assert all(d.started and d.console_url.startswith("https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/")
               for d in pipeline)
    codedeploy = sorted(by_source["codedeploy"], key=lambda d: d.started)
    assert [(d.revision, d.status) for d in codedeploy] == [("s3://acme-releases/web/web-1.0.0.zip", "Succeeded"),
                                                           ("s3://acme-releases/web/web-1.1.0.zip", "Succeeded")]
    assert all(d.ended - d.started for d in codedeploy)
    [ecs] = by_source["ecs"]
    assert (ecs.revision, ecs.phase, ecs.status) == ("web:2", Phase.SUCCEEDED, "COMPLETED (2/2 tasks)")


def test_last_bounds_how_many_each_source_reads(clients, run_ctx):
    result = TARGET.run(clients, {**HISTORY, "last": 1}, run_ctx)
    assert sorted(d.source for d in found(result)) == ["codedeploy", "codepipeline", "ecs"]
    assert [d.revision for d in found(result) if d.source == "codedeploy"] == ["s3://acme-releases/web/web-1.1.0.zip"]


def test_a_source_that_fails_is_a_problem_of_its_own_and_the_others_still_answer(clients, run_ctx):
    settings = {"services": {"web": {**WEB, "pipeline": "no-such-pipeline"}}}
    result = TARGET.run(clients, settings, run_ctx)
    assert result.ok
    [problem] = result.output["problems"]
    assert problem.startswith("web (codepipeline): ") and "no-such-pipeline" in problem
    assert {d.source for d in found(result)} == {"codedeploy", "ecs"}
    assert "⚠️ web (codepipeline)" in result.summary


def test_when_every_source_fails_the_result_fails(clients, run_ctx):
    settings = {"services": {"web": {"pipeline": "nope", "ecs": {"cluster": "acme", "service": "nope"}}}}
    result = TARGET.run(clients, settings, run_ctx)
    assert not result.ok and len(result.output["problems"]) == 2
    assert "ECS service nope is not active in cluster acme" in result.output["problems"][1]


def test_an_unknown_service_is_refused_naming_the_known_ones(clients, run_ctx):
    with pytest.raises(AutomationError, match=r"service: 'db' is not one of the services \(web\)"):
        TARGET.run(clients, {**HISTORY, "service": "db"}, run_ctx)


def test_an_unfilled_service_placeholder_reads_every_service(clients, run_ctx):
    settings = {**HISTORY, "service": "{service}", "services": {"web": WEB, "api": {}}}
    assert TARGET.run(clients, settings, run_ctx).output["services"] == ["web", "api"]


def test_the_permissions_cover_every_call_it_makes_and_nothing_more(clients, run_ctx):
    recorder = CallRecorder()
    for service in ("codepipeline", "codedeploy", "ecs"):
        recorder.attach(clients.client(service))
    assert TARGET.run(clients, HISTORY, run_ctx).ok
    granted = TARGET.permissions(HISTORY, PROD)
    resources = {"codepipeline": "arn:aws:codepipeline:eu-west-1:333333333333:{pipelineName}{name}",
                 "codedeploy": "arn:aws:codedeploy:eu-west-1:333333333333:deploymentgroup:web/prod",
                 "ecs": "arn:aws:ecs:eu-west-1:333333333333:service/{cluster}/web"}
    for call in recorder.calls:
        params = {"pipelineName": "", "name": "", "cluster": "", **call.params}
        resource = resources[call.service].format(**params)
        assert any(p.action == call.action and fnmatchcase(resource, p.resource) for p in granted), call
    assert {call.action for call in recorder.calls} == {p.action for p in granted}
