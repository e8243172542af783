"""The `cost` target (read): month-to-date spend, the month-end forecast and the top services.

```yaml
action: {kind: cost, group_by: service, top: 5, budget: "{env}-monthly"}
```
Cost Explorer is a global service answered from us-east-1, whatever the environment's region.
Periods are whole days with an exclusive end: month to date is [1st, today). On the 1st there is
nothing of the new month yet, so the figures are last month's, complete. The forecast is the rest
of the month [today, 1st of next month) added to the spend so far; a missing forecast (too little
history, or no access) never fails the command: the spend is still worth showing.

`budget` names an AWS Budgets budget of the environment's account (DescribeBudget, which IAM can
grant on that one budget): its limit, and what the budget itself counts as spent and forecast
(with its own filters and period), with the share of the limit each is. A budget that is missing
or unreadable is said so; the spend still shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from opsgate.adapters.aws.chat_text import money
from opsgate.adapters.aws.names import wildcard_placeholders
from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.settings_check import (
    choice,
    ensure_valid,
    number_problems,
    optional_text,
    unknown_keys,
    whole_number,
)
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult

CE_REGION = "us-east-1"
BUDGETS_REGION = "us-east-1"  # Budgets is global too
SETTINGS = ("group_by", "top", "budget")
GROUPINGS = ("service", "none")
DEFAULT_TOP = 5
MAX_TOP = 20


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True, slots=True)
class Periods:
    spent: tuple[date, date]  # [start, end) of the spend reported
    forecast: tuple[date, date] | None  # [today, next month) or None when not asked
    this_month: bool  # False on the 1st: `spent` is last month


def periods(today: date) -> Periods:
    yesterday = today - timedelta(days=1)
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    # Nothing to forecast on the 1st (the spend shown is last month's) or the last day (it is over).
    forecast = (today, next_month) if today.day != 1 and today != next_month - timedelta(days=1) else None
    return Periods(spent=(yesterday.replace(day=1), today), forecast=forecast, this_month=today.day != 1)


def _time_period(span: tuple[date, date]) -> dict[str, str]:
    return {"Start": span[0].isoformat(), "End": span[1].isoformat()}


def usage_request(settings: dict[str, Any], span: tuple[date, date]) -> dict[str, Any]:
    request: dict[str, Any] = {"TimePeriod": _time_period(span), "Granularity": "MONTHLY",
                               "Metrics": ["UnblendedCost"]}
    if settings.get("group_by", "service") == "service":
        request["GroupBy"] = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    return request


def forecast_request(span: tuple[date, date]) -> dict[str, Any]:
    return {"TimePeriod": _time_period(span), "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY"}


def budget_arn(account: str, name: str) -> str:
    return f"arn:aws:budgets::{account}:budget/{name}"


def budget_line(budget: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`Budget prod-monthly (monthly): $9,731.15 of $12,000.00 (81%); forecast $13,100.00 (109%), over budget`."""
    limit = budget.get("BudgetLimit") or {}
    spend = budget.get("CalculatedSpend") or {}
    unit = limit.get("Unit", "USD")
    cap = Decimal(limit.get("Amount", "0"))
    actual = Decimal((spend.get("ActualSpend") or {}).get("Amount", "0"))
    forecast = (spend.get("ForecastedSpend") or {}).get("Amount")
    period = str(budget.get("TimeUnit", "")).lower()
    line = f"Budget {budget['BudgetName']}" + (f" ({period})" if period else "") + f": {money(actual, unit)}"
    if not cap:
        return line + " spent (no limit set)", {"name": budget["BudgetName"], "actual": str(actual)}
    line += f" of {money(cap, unit)} ({actual / cap:.0%})"
    output = {"name": budget["BudgetName"], "limit": str(cap), "actual": str(actual)}
    if forecast is not None:
        expected = Decimal(forecast)
        line += f"; forecast {money(expected, unit)} ({expected / cap:.0%})"
        output["forecast"] = str(expected)
        if expected > cap:
            line += ", over budget"
    if actual > cap:
        line += " — already over budget"
    return line, output


def spend(pages: list[dict[str, Any]]) -> tuple[Decimal, str, dict[str, Decimal]]:
    """(total, unit, amount per service) from GetCostAndUsage pages (grouped or not)."""
    total, unit, services = Decimal(0), "USD", {}
    for page in pages:
        for result in page.get("ResultsByTime", []):
            for group in result.get("Groups", []):
                cost = group["Metrics"]["UnblendedCost"]
                name = group["Keys"][0]
                services[name] = services.get(name, Decimal(0)) + Decimal(cost["Amount"])
                total, unit = total + Decimal(cost["Amount"]), cost.get("Unit", unit)
            ungrouped = result.get("Total", {}).get("UnblendedCost")
            if ungrouped and not result.get("Groups"):  # AWS leaves Total empty when grouping
                total, unit = total + Decimal(ungrouped["Amount"]), ungrouped.get("Unit", unit)
    return total, unit, services


class CostTarget(OneShot):
    kind: ClassVar[str] = "cost"
    service: ClassVar[str] = "ce"  # IAM prefix, for messages and policies

    def __init__(self, today: Callable[[], date] = utc_today) -> None:
        self.today = today

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += choice(settings, "group_by", GROUPINGS)
        problems += number_problems(settings, "top", minimum=1, maximum=MAX_TOP)
        problems += optional_text(settings, "budget", "the name of an AWS Budgets budget")
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        # Cost Explorer's GetCostAndUsage and GetCostForecast take no resource: IAM accepts only `*`.
        needed = [Permission("ce:GetCostAndUsage", "*"), Permission("ce:GetCostForecast", "*")]
        if settings.get("budget"):  # DescribeBudget is granted as budgets:ViewBudget on the budget
            name = wildcard_placeholders(str(settings["budget"]))
            needed.append(Permission("budgets:ViewBudget", budget_arn(environment.account, name)))
        return needed

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        when = periods(self.today())
        calls = [PlannedCall(api="ce:GetCostAndUsage", target="*", parameters=usage_request(settings, when.spent))]
        if when.forecast:
            calls.append(PlannedCall(api="ce:GetCostForecast", target="*", parameters=forecast_request(when.forecast)))
        if settings.get("budget"):
            calls.append(PlannedCall(api="budgets:DescribeBudget",
                                     target=budget_arn(environment.account, settings["budget"]),
                                     parameters={"AccountId": environment.account, "BudgetName": settings["budget"]}))
        return calls

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        ce = clients.client("ce", region=CE_REGION)
        when = periods(self.today())
        total, unit, services = spend(self._usage_pages(ce, usage_request(settings, when.spent)))
        label = "Month to date" if when.this_month else f"Last month ({when.spent[0]:%B %Y})"
        summary = f"{label}: {money(total, unit)}"
        output: dict[str, Any] = {"start": when.spent[0].isoformat(), "end": when.spent[1].isoformat(),
                                  "total": str(total), "unit": unit}
        if when.forecast:
            remaining, missing = self._forecast(ce, when.forecast)
            if remaining is None:
                summary += f" ({missing})"
            else:
                output["forecast"] = str(total + remaining)
                summary += f" (forecast {money(total + remaining, unit)})"
        top = whole_number(settings.get("top", DEFAULT_TOP))
        ranked = sorted(services.items(), key=lambda item: item[1], reverse=True)[:top]
        if ranked:
            summary += " — top services: " + ", ".join(f"{name} {money(amount, unit)}" for name, amount in ranked)
            output["services"] = [{"service": name, "amount": str(amount)} for name, amount in ranked]
        if settings.get("budget"):
            line, budget = self._budget(clients, settings["budget"])
            summary += "\n" + line
            if budget:
                output["budget"] = budget
        return RunResult(ok=True, summary=summary, output=output)

    @staticmethod
    def _budget(clients: Clients, name: str) -> tuple[str, dict[str, str]]:
        """(the budget's line, its figures); a missing or unreadable budget is a line saying so."""
        budgets = clients.client("budgets", region=BUDGETS_REGION)
        try:
            answer = budgets.describe_budget(AccountId=clients.environment.account, BudgetName=name)
        except budgets.exceptions.NotFoundException:
            return f"Budget {name}: not found in account {clients.environment.account}", {}
        except ClientError as err:  # the spend is still worth showing; say why the budget is not
            return f"Budget {name}: not available ({err.response.get('Error', {}).get('Code', 'error')})", {}
        return budget_line(answer["Budget"])

    @staticmethod
    def _usage_pages(ce: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
        pages = [ce.get_cost_and_usage(**request)]  # boto3 has no paginator for it
        while pages[-1].get("NextPageToken"):
            pages.append(ce.get_cost_and_usage(**request, NextPageToken=pages[-1]["NextPageToken"]))
        return pages

    @staticmethod
    def _forecast(ce: Any, span: tuple[date, date]) -> tuple[Decimal | None, str]:
        """(forecast for the rest of the month, or None and the words saying why there is none)."""
        try:
            answer = ce.get_cost_forecast(**forecast_request(span))
        except ce.exceptions.DataUnavailableException:
            return None, "no forecast yet"
        except ClientError as err:  # the spend is still worth showing; say why the forecast is not
            return None, f"no forecast available: {err.response.get('Error', {}).get('Code', 'error')}"
        return Decimal(answer["Total"]["Amount"]), ""
