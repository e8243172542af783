"""The `cost` target's budget: an AWS Budgets budget of the environment's account (moto over HTTP),
its limit against what it counts as spent and forecast; a missing budget never hides the spend."""

from __future__ import annotations

from datetime import date

import pytest

from opsgate.adapters.aws.cost_target import CostTarget, budget_line
from opsgate.adapters.aws.iam_policy import CallRecorder, iam_action
from opsgate.adapters.aws.target import Permission

MID_MARCH = date(2026, 3, 15)
SPEND = {"ResultsByTime": [{"TimePeriod": {"Start": "2026-03-01", "End": "2026-03-15"}, "Estimated": True,
                            "Total": {"UnblendedCost": {"Amount": "7000", "Unit": "USD"}}, "Groups": []}],
         "DimensionValueAttributes": []}
FORECAST = "before-send.*.GetCostForecast"


def budget(name: str, limit: str, actual: str, forecast: str | None = None, unit: str = "MONTHLY") -> dict:
    spend = {"ActualSpend": {"Amount": actual, "Unit": "USD"}}
    if forecast is not None:
        spend["ForecastedSpend"] = {"Amount": forecast, "Unit": "USD"}
    return {"BudgetName": name, "BudgetType": "COST", "TimeUnit": unit,
            "BudgetLimit": {"Amount": limit, "Unit": "USD"}, "CalculatedSpend": spend}


@pytest.fixture
def dev(make_environment):
    return make_environment()


@pytest.fixture
def recorder():
    return CallRecorder()


@pytest.fixture
def clients(hooked_sessions, recorder, canned_answer, moto_queue, dev, make_ctx):
    moto_queue("ce/cost-and-usage-results", [SPEND], account_id=dev.account)
    forecast = canned_answer(FORECAST, 200, {"Total": {"Amount": "4000", "Unit": "USD"}, "ForecastResultsByTime": []})

    def attach(session_or_client):
        recorder.attach(session_or_client)
        forecast(session_or_client)

    return hooked_sessions(attach).clients(dev, make_ctx(dev))


def create(clients, dev, **values) -> None:
    clients.client("budgets", region="us-east-1").create_budget(AccountId=dev.account, Budget=budget(**values))


def test_the_budget_line_compares_spend_and_forecast_with_the_limit(clients, dev, make_ctx, recorder):
    create(clients, dev, name="dev-monthly", limit="10000", actual="7000", forecast="11000")
    result = CostTarget(today=lambda: MID_MARCH).run(clients, {"group_by": "none", "budget": "dev-monthly"},
                                                     make_ctx(dev))
    assert result.ok
    assert result.summary.splitlines()[1] == ("Budget dev-monthly (monthly): $7,000.00 of $10,000.00 (70%); "
                                              "forecast $11,000.00 (110%), over budget")
    assert result.output["budget"] == {"name": "dev-monthly", "limit": "10000", "actual": "7000",
                                       "forecast": "11000"}
    [described] = [c for c in recorder.calls if c.operation == "DescribeBudget"]
    assert described.params == {"AccountId": dev.account, "BudgetName": "dev-monthly"}
    assert described.action == "budgets:ViewBudget"  # the IAM action DescribeBudget needs


def test_a_missing_budget_is_said_and_the_spend_still_shows(clients, dev, make_ctx):
    result = CostTarget(today=lambda: MID_MARCH).run(clients, {"budget": "nope"}, make_ctx(dev))
    assert result.ok and result.summary.startswith("Month to date: $7,000.00 (forecast $11,000.00)")
    assert result.summary.splitlines()[-1] == f"Budget nope: not found in account {dev.account}"
    assert "budget" not in result.output


def test_spend_above_the_limit_is_already_over_budget():
    line, figures = budget_line(budget("ops", "100", "150"))
    assert line == "Budget ops (monthly): $150.00 of $100.00 (150%) — already over budget"
    assert figures == {"name": "ops", "limit": "100", "actual": "150"}


def test_a_budget_without_a_limit_shows_the_spend_alone():
    line, _ = budget_line(budget("ops", "0", "12.5", unit="QUARTERLY"))
    assert line == "Budget ops (quarterly): $12.50 spent (no limit set)"


def test_the_budget_is_granted_on_itself_and_planned_as_a_call(dev, make_ctx):
    target = CostTarget(today=lambda: MID_MARCH)
    wanted = target.permissions({"budget": "{env}-monthly"}, dev)
    assert wanted[-1] == Permission("budgets:ViewBudget", f"arn:aws:budgets::{dev.account}:budget/*-monthly")
    [*_, planned] = target.plan({"budget": "dev-monthly"}, dev, make_ctx(dev))
    assert (planned.api, planned.target) == ("budgets:DescribeBudget", f"arn:aws:budgets::{dev.account}:budget/dev-monthly")
    assert iam_action("budgets", "DescribeBudget") == "budgets:ViewBudget"


def test_validate_wants_a_budget_name():
    assert CostTarget().validate({"budget": ""}) == ["budget: must be the name of an AWS Budgets budget"]
    assert CostTarget().validate({"budget": "{env}-monthly"}) == []
