"""The sandbox's release history and budgets: pipeline executions say who started them and from which
source revision, spread over past days; the answered approvals are off the queue; CodeDeploy and
ECS history is dated back too; each account has a monthly budget matching its cost numbers."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from opsgate.sandbox.seed import (
    BUDGET_USD,
    CODEDEPLOY_APPLICATION,
    CURRENT_RELEASE,
    ECS_CLUSTER,
    ECS_SERVICE,
    MONTH_TO_DATE_USD,
    PIPELINE,
    RELEASE_HISTORY,
    budget_name,
    days_ago,
    month_end_forecast,
    seed_approval_queue,
    seed_budget,
    seed_codedeploy,
    seed_ecs,
    seed_iam,
    seed_pipeline,
)
from tests.adapters.aws.sandbox_fixtures import PROD_ACCOUNT


def test_executions_name_who_started_them_and_what_they_built_newest_first(prod_clients):
    seed_iam(prod_clients.client, PROD_ACCOUNT)
    queue_url, topic_arn = seed_approval_queue(prod_clients.client)
    seed_pipeline(prod_clients.client, PROD_ACCOUNT, topic_arn)
    summaries = prod_clients.client("codepipeline").list_pipeline_executions(
        pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    expected = [CURRENT_RELEASE] + [(key, person) for key, person, *_ in reversed(RELEASE_HISTORY)]
    assert [(s["sourceRevisions"][0]["revisionId"], s["trigger"]["triggerDetail"].rsplit("/", 1)[-1])
            for s in summaries] == expected
    assert all(s["trigger"]["triggerType"] == "StartPipelineExecution" for s in summaries)
    assert summaries[0]["trigger"]["triggerDetail"].startswith("arn:aws:sts::333333333333:assumed-role/")
    starts = [s["startTime"] for s in summaries]
    assert starts == sorted(starts, reverse=True)
    assert starts[-1] == days_ago(RELEASE_HISTORY[0][2])
    assert datetime.now(timezone.utc) - starts[0] < timedelta(hours=1)
    # only the approval that waits now is on the queue: the history's were answered
    messages = prod_clients.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    approval = json.loads(json.loads(messages[0]["Body"])["Message"])["approval"]
    assert approval["token"]


def test_a_pipeline_without_the_approval_topic_runs_through_once(prod_clients):
    seed_iam(prod_clients.client, PROD_ACCOUNT)
    seed_pipeline(prod_clients.client, PROD_ACCOUNT, None)
    [summary] = prod_clients.client("codepipeline").list_pipeline_executions(
        pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    assert summary["status"] == "Succeeded" and summary["trigger"]["triggerDetail"].endswith("/bob")


def test_codedeploy_and_ecs_history_is_dated_back(prod_clients):
    seed_codedeploy(prod_clients.client, PROD_ACCOUNT)
    seed_ecs(prod_clients.client, PROD_ACCOUNT)
    codedeploy = prod_clients.client("codedeploy")
    ids = codedeploy.list_deployments(applicationName=CODEDEPLOY_APPLICATION, deploymentGroupName="prod")["deployments"]
    infos = sorted(codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"], key=lambda d: d["createTime"])
    assert [d["createTime"] for d in infos] == [days_ago(6, 15), days_ago(4, 15)]
    assert all(d["completeTime"] - d["createTime"] == timedelta(minutes=6) for d in infos)
    [primary] = prod_clients.client("ecs").describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"][0][
        "deployments"]
    assert (primary["createdAt"], primary["rolloutState"]) == (days_ago(4, 20), "COMPLETED")


def test_the_monthly_budget_matches_the_cost_numbers(prod_clients):
    seed_budget(prod_clients.client, PROD_ACCOUNT)
    budget = prod_clients.client("budgets", region="us-east-1").describe_budget(
        AccountId=PROD_ACCOUNT.account_id, BudgetName=budget_name(PROD_ACCOUNT))["Budget"]
    assert budget["BudgetLimit"] == {"Amount": BUDGET_USD["prod"], "Unit": "USD"}
    assert budget["CalculatedSpend"]["ActualSpend"]["Amount"] == MONTH_TO_DATE_USD["prod"]
    assert budget["CalculatedSpend"]["ForecastedSpend"]["Amount"] == month_end_forecast(MONTH_TO_DATE_USD["prod"],
                                                                                       date.today())


def test_the_forecast_carries_the_daily_rate_to_the_end_of_the_month():
    assert month_end_forecast("100.00", date(2026, 2, 10)) == "280.00"  # 10 a day, 28 days
    assert month_end_forecast("310.00", date(2026, 3, 31)) == "310.00"
