"""Cost Explorer: GetCostForecast, which moto lacks.

The sandbox has no billing data to forecast from, so a forecast is whatever was set for the
account with `set_forecast` (the seed sets one per example account); an account without one
answers DataUnavailableException, as a new AWS account does.
"""

from __future__ import annotations

import json
from typing import Any

from moto.ce.responses import CostExplorerResponse
from moto.core.base_backend import BackendDict, BaseBackend

from opsgate.sandbox.moto_extensions._common import aws_error, serialized

PARTITION = "aws"


class ForecastBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.amount_usd: str | None = None  # for the rest of the month


# Keyed like moto's own Cost Explorer backend (account, partition), and emptied by its reset.
forecast_backends = BackendDict(ForecastBackend, "ce", use_boto3_regions=False, additional_regions=[PARTITION])


def set_forecast(account_id: str, amount_usd: str) -> None:
    forecast_backends[account_id][PARTITION].amount_usd = amount_usd


@serialized
def get_cost_forecast(self: CostExplorerResponse) -> str:
    body: dict[str, Any] = json.loads(self.body or "{}")
    amount = forecast_backends[self.current_account][self.partition].amount_usd
    if amount is None:
        raise aws_error("DataUnavailableException", "Insufficient amount of historical data to generate forecast.")
    period = body.get("TimePeriod", {})
    return json.dumps({
        "Total": {"Amount": amount, "Unit": "USD"},
        "ForecastResultsByTime": [{"TimePeriod": period, "MeanValue": amount}],
    })


EXTENSIONS = {CostExplorerResponse: {"get_cost_forecast": get_cost_forecast}}
