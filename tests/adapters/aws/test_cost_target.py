"""The `cost` target against moto's Cost Explorer.

moto returns GetCostAndUsage results queued through its API (FACTS.md) and has no GetCostForecast
(it answers 500). Forecast answers are therefore given at botocore's `before-send` hook with the
response shape AWS documents: the request is built, signed and the answer parsed for real.
"""

from __future__ import annotations

from datetime import date

import pytest

from opsgate.adapters.aws.cost_target import CostTarget, periods
from opsgate.adapters.aws.iam_policy import CallRecorder
from opsgate.adapters.aws.target import Permission
from opsgate.errors import AutomationError

MID_MARCH = date(2026, 3, 15)
FORECAST = "before-send.*.GetCostForecast"


def grouped(*services: tuple[str, str]) -> dict:
    return {"ResultsByTime": [{
        "TimePeriod": {"Start": "2026-03-01", "End": "2026-03-15"}, "Total": {}, "Estimated": True,
        "Groups": [{"Keys": [name], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                   for name, amount in services]}], "DimensionValueAttributes": []}


SPEND = grouped(("Amazon Elastic Compute Cloud - Compute", "80.004"), ("AWS Lambda", "3.1"),
                ("Amazon Simple Storage Service", "36.9"), ("AmazonCloudWatch", "0.5"))


@pytest.fixture
def dev(make_environment):
    return make_environment()


@pytest.fixture
def queue_spend(moto_queue, dev):
    def queue(*results: dict) -> None:
        moto_queue("ce/cost-and-usage-results", list(results), account_id=dev.account)

    return queue


@pytest.fixture
def recorder():
    return CallRecorder()


@pytest.fixture
def watched(hooked_sessions, recorder, dev, make_ctx):
    """`watched(*more_hooks)` → clients whose calls the recorder sees, plus the extra hooks."""

    def build(*hooks):
        def attach(session_or_client):
            recorder.attach(session_or_client)
            for hook in hooks:
                hook(session_or_client)

        return hooked_sessions(attach).clients(dev, make_ctx(dev))

    return build


def forecast_of(canned_answer, amount: str):
    return canned_answer(FORECAST, 200, {"Total": {"Amount": amount, "Unit": "USD"}, "ForecastResultsByTime": []})


def run(target: CostTarget, clients, make_ctx, dev, settings: dict | None = None):
    return target.run(clients, settings or {}, make_ctx(dev))


# -- dates, validate, permissions, plan -----------------------------------------------------------

def test_periods_mid_month_cover_the_month_so_far_and_forecast_the_rest():
    when = periods(MID_MARCH)
    assert when.spent == (date(2026, 3, 1), date(2026, 3, 15)) and when.this_month
    assert when.forecast == (date(2026, 3, 15), date(2026, 4, 1))


def test_periods_on_the_first_report_last_month_without_forecast():
    when = periods(date(2026, 3, 1))
    assert when.spent == (date(2026, 2, 1), date(2026, 3, 1)) and not when.this_month
    assert when.forecast is None


def test_periods_on_the_last_day_skip_the_forecast_even_across_a_year():
    assert periods(date(2026, 12, 31)).forecast is None
    assert periods(date(2026, 12, 31)).spent == (date(2026, 12, 1), date(2026, 12, 31))
    assert periods(date(2028, 2, 28)).forecast == (date(2028, 2, 28), date(2028, 3, 1))  # a leap year


def test_validate_reports_each_problem():
    assert CostTarget().validate({"group_by": "region", "top": 0, "currency": "EUR"}) == [
        "currency: unknown key; the cost action accepts kind, group_by, top, budget",
        "group_by: must be service or none (got 'region')",
        "top: must be a whole number from 1 to 20"]
    assert CostTarget().validate({"group_by": "none", "top": "{n}"}) == []


def test_permissions_are_cost_explorer_reads_on_star(dev):
    assert CostTarget().permissions({}, dev) == [Permission("ce:GetCostAndUsage", "*"),
                                                 Permission("ce:GetCostForecast", "*")]


def test_plan_lists_the_exact_calls(dev, make_ctx):
    calls = CostTarget(today=lambda: MID_MARCH).plan({}, dev, make_ctx(dev))
    assert [(c.api, c.parameters) for c in calls] == [
        ("ce:GetCostAndUsage", {"TimePeriod": {"Start": "2026-03-01", "End": "2026-03-15"}, "Granularity": "MONTHLY",
                                "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}),
        ("ce:GetCostForecast", {"TimePeriod": {"Start": "2026-03-15", "End": "2026-04-01"},
                                "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY"})]
    last_day = CostTarget(today=lambda: date(2026, 3, 31)).plan({"group_by": "none"}, dev, make_ctx(dev))
    assert [c.api for c in last_day] == ["ce:GetCostAndUsage"]
    assert "GroupBy" not in last_day[0].parameters


# -- run against moto -----------------------------------------------------------------------------

def test_run_reports_month_to_date_forecast_and_top_services(queue_spend, watched, canned_answer, recorder,
                                                             make_ctx, dev):
    queue_spend(SPEND)
    clients = watched(forecast_of(canned_answer, "200.5"))
    result = run(CostTarget(today=lambda: MID_MARCH), clients, make_ctx, dev, {"top": "2"})  # as filled from "{n}"
    assert result.ok and not result.pending
    assert result.summary == ("Month to date: $120.50 (forecast $321.00) — top services: "
                              "Amazon Elastic Compute Cloud - Compute $80.00, Amazon Simple Storage Service $36.90")
    assert result.output["total"] == "120.504" and result.output["forecast"] == "321.004"
    usage, forecast = recorder.calls
    assert (usage.operation, forecast.operation) == ("GetCostAndUsage", "GetCostForecast")
    assert usage.params["TimePeriod"] == {"Start": "2026-03-01", "End": "2026-03-15"}
    assert forecast.params["TimePeriod"] == {"Start": "2026-03-15", "End": "2026-04-01"}


def test_cost_explorer_is_called_in_us_east_1_whatever_the_environment(queue_spend, watched, canned_answer,
                                                                       make_ctx, dev):
    regions = []

    def signed_region(session_or_client):
        def note(request, **_):
            # "Credential=<key>/<date>/<region>/ce/aws4_request": the region the call was signed for.
            regions.append(request.headers["Authorization"].decode().split("/")[2])

        events = getattr(session_or_client, "events", None) or session_or_client.meta.events
        events.register("before-send.*.GetCostAndUsage", note, unique_id="signed-region")

    queue_spend(SPEND)
    run(CostTarget(today=lambda: MID_MARCH), watched(signed_region, forecast_of(canned_answer, "1")), make_ctx, dev)
    assert dev.region == "eu-west-1" and regions == ["us-east-1"]


def test_no_forecast_yet_when_cost_explorer_has_too_little_data(queue_spend, watched, canned_answer, make_ctx, dev):
    queue_spend(SPEND)
    unavailable = canned_answer(FORECAST, 400, {"__type": "DataUnavailableException",
                                                "Message": "Insufficient amount of historical data"})
    result = run(CostTarget(today=lambda: date(2026, 3, 2)), watched(unavailable), make_ctx, dev)
    assert result.ok
    assert result.summary.startswith("Month to date: $120.50 (no forecast yet) — top services: ")
    assert "forecast" not in result.output


def test_a_denied_forecast_does_not_hide_the_spend(queue_spend, watched, canned_answer, make_ctx, dev):
    queue_spend(SPEND)
    denied = canned_answer(FORECAST, 400, {"__type": "AccessDeniedException", "Message": "not allowed"})
    result = run(CostTarget(today=lambda: MID_MARCH), watched(denied), make_ctx, dev)
    assert result.ok
    assert "(no forecast available: AccessDeniedException)" in result.summary


def test_an_account_without_forecast_data_still_reports_the_spend(queue_spend, clients_for, make_ctx, dev):
    from opsgate.sandbox.moto_extensions import install

    install()  # the sandbox's GetCostForecast (moto has none) answers DataUnavailable for such an account
    queue_spend(SPEND)
    result = run(CostTarget(today=lambda: MID_MARCH), clients_for(dev), make_ctx, dev)
    assert result.ok
    assert result.summary.startswith("Month to date: $120.50 (no forecast yet) — top services: ")


def test_on_the_first_it_reports_last_month_and_asks_no_forecast(queue_spend, watched, recorder, make_ctx, dev):
    queue_spend(SPEND)
    result = run(CostTarget(today=lambda: date(2026, 3, 1)), watched(), make_ctx, dev)
    assert result.summary.startswith("Last month (February 2026): $120.50 — top services: ")
    assert [c.operation for c in recorder.calls] == ["GetCostAndUsage"]
    assert recorder.calls[0].params["TimePeriod"] == {"Start": "2026-02-01", "End": "2026-03-01"}


def test_ungrouped_spend_uses_the_total(queue_spend, watched, recorder, make_ctx, dev):
    queue_spend({"ResultsByTime": [{"TimePeriod": {"Start": "2026-03-01", "End": "2026-03-31"}, "Groups": [],
                                    "Total": {"UnblendedCost": {"Amount": "1234.5", "Unit": "USD"}}}]})
    result = run(CostTarget(today=lambda: date(2026, 3, 31)), watched(), make_ctx, dev, {"group_by": "none"})
    assert result.summary == "Month to date: $1,234.50"
    assert "GroupBy" not in recorder.calls[0].params


def test_no_spend_yet_is_zero(watched, canned_answer, make_ctx, dev):
    result = run(CostTarget(today=lambda: MID_MARCH), watched(forecast_of(canned_answer, "12")), make_ctx, dev)
    assert result.summary == "Month to date: $0.00 (forecast $12.00)"


def test_poll_refuses(clients_for, make_ctx, dev):
    with pytest.raises(AutomationError, match="finish at once"):
        CostTarget().poll(clients_for(dev), {}, make_ctx(dev), {})
