"""Which catalog environment an event belongs to, from its account, region and tags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opsgate.domain.catalog import Environment

# Tag keys people use to name an environment on a resource, checked in this order.
ENVIRONMENT_TAG_KEYS = ("opsgate:environment", "environment", "env", "stage")


class EnvironmentIndex:
    """Resolves (account, region, tags) to an environment name, or None when it is not certain.

    Several environments may share an account and region (dev and staging in one account): then
    only a resource tag naming one of them decides. Global services (Budgets, Cost Anomaly
    Detection) send no region: an account holding exactly one environment is enough.
    """

    def __init__(self, environments: Iterable[Environment]) -> None:
        self._by_name = {e.name.lower(): e for e in environments}

    def resolve(self, account: str | None, region: str | None, tags: Mapping[str, str] | None = None) -> str | None:
        in_account = [e for e in self._by_name.values() if account and e.account == account]
        tagged = self._from_tags(tags or {}, in_account if account else list(self._by_name.values()))
        if tagged is not None:
            return tagged
        if region:
            in_region = [e for e in in_account if e.region == region]
            if len(in_region) == 1:
                return in_region[0].name
            if in_region:
                return None  # ambiguous without a tag
        return in_account[0].name if len(in_account) == 1 else None

    @staticmethod
    def _from_tags(tags: Mapping[str, str], candidates: list[Environment]) -> str | None:
        lowered = {k.lower(): v for k, v in tags.items()}
        for key in ENVIRONMENT_TAG_KEYS:
            value = lowered.get(key, "").strip().lower()
            for env in candidates:
                if value and env.name.lower() == value:
                    return env.name
        return None
