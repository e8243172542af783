"""The `alarms` target (read): which CloudWatch alarms are in a state, and since when.

```yaml
action: {kind: alarms, state: ALARM, name_prefix: "{service}-", tags: {team: payments}}
```
Lists metric and composite alarms, newest state change first; `tags` keeps only alarms carrying
every given tag (one ListTagsForResource per alarm, so it is asked only when tags are given).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from opsgate.adapters.aws.chat_text import shorten
from opsgate.adapters.aws.names import console_url, resource_arn, url_part, wildcard_placeholders
from opsgate.adapters.aws.one_shot import OneShot
from opsgate.adapters.aws.settings_check import (
    choice,
    ensure_valid,
    mapping_problems,
    optional_text,
    unknown_keys,
)
from opsgate.adapters.aws.target import Clients, Permission
from opsgate.domain.catalog import Environment
from opsgate.ports import PlannedCall, RunContext, RunResult

SETTINGS = ("state", "name_prefix", "tags")
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA", "any")
SHOWN = 20  # alarms listed in chat; the rest are counted
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def alarm_console_url(region: str, name: str) -> str:
    return console_url(region, f"cloudwatch/home?region={region}#alarmsV2:alarm/{url_part(name)}")


def describe_request(settings: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}  # else: metric alarms only
    state = settings.get("state", "ALARM")
    if state != "any":
        request["StateValue"] = state
    if settings.get("name_prefix"):
        request["AlarmNamePrefix"] = settings["name_prefix"]
    return request


def alarm_line(alarm: dict[str, Any]) -> str:
    since = alarm.get("StateUpdatedTimestamp")
    when = since.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if since else "an unknown time"
    reason = shorten(alarm.get("StateReason", ""), 160)
    return f"• {alarm['AlarmName']} — {alarm['StateValue']} since {when}" + (f": {reason}" if reason else "")


class AlarmsTarget(OneShot):
    kind: ClassVar[str] = "alarms"
    service: ClassVar[str] = "cloudwatch"  # IAM prefix, for messages and policies

    def validate(self, settings: dict[str, Any]) -> list[str]:
        problems = unknown_keys(self.kind, settings, SETTINGS)
        problems += choice(settings, "state", STATES)
        problems += optional_text(settings, "name_prefix", "the start of alarm names")
        problems += mapping_problems(settings, "tags", text_values=True)
        return problems

    def permissions(self, settings: dict[str, Any], environment: Environment) -> list[Permission]:
        # DescribeAlarms has no resource-level permissions: IAM only accepts `*` for it.
        needed = [Permission("cloudwatch:DescribeAlarms", "*")]
        if settings.get("tags"):
            prefix = wildcard_placeholders(str(settings.get("name_prefix") or ""))
            needed.append(Permission("cloudwatch:ListTagsForResource", self._alarm_arn(environment, prefix + "*")))
        return needed

    def plan(self, settings: dict[str, Any], environment: Environment, ctx: RunContext) -> list[PlannedCall]:
        ensure_valid(self.kind, self.validate(settings))
        calls = [PlannedCall(api="cloudwatch:DescribeAlarms", target="*", parameters=describe_request(settings))]
        if settings.get("tags"):
            every = self._alarm_arn(environment, (settings.get("name_prefix") or "") + "*")
            calls.append(PlannedCall(api="cloudwatch:ListTagsForResource", target=every,
                                     parameters={"ResourceARN": "<each alarm found>"}))
        return calls

    def run(self, clients: Clients, settings: dict[str, Any], ctx: RunContext) -> RunResult:
        ensure_valid(self.kind, self.validate(settings))
        cloudwatch = clients.client("cloudwatch")
        alarms = self._matching(cloudwatch, settings)
        alarms.sort(key=lambda a: a.get("StateUpdatedTimestamp") or _EPOCH, reverse=True)
        region = clients.environment.region
        state = settings.get("state", "ALARM")
        where = f" named {settings['name_prefix']}…" if settings.get("name_prefix") else ""
        in_state = f" in {state}" if state != "any" else ""
        if not alarms:
            return RunResult(ok=True, summary=f"No alarms{where}{in_state}", output={"count": 0, "alarms": []})
        heading = f"{len(alarms)} alarm{'s' if len(alarms) != 1 else ''}{where}{in_state}"
        lines = [alarm_line(a) for a in alarms[:SHOWN]]
        if len(alarms) > SHOWN:
            lines.append(f"… and {len(alarms) - SHOWN} more")
        listed = [{"name": a["AlarmName"], "arn": a.get("AlarmArn", ""), "state": a["StateValue"],
                   "since": a["StateUpdatedTimestamp"].isoformat() if a.get("StateUpdatedTimestamp") else None,
                   "console_url": alarm_console_url(region, a["AlarmName"])} for a in alarms]
        return RunResult(ok=True, summary=heading + ":\n" + "\n".join(lines),
                         output={"count": len(alarms), "alarms": listed})

    def _matching(self, cloudwatch: Any, settings: dict[str, Any]) -> list[dict[str, Any]]:
        request = describe_request(settings)
        found = []
        for page in cloudwatch.get_paginator("describe_alarms").paginate(**request):
            found += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
        # AWS applies every filter; re-checking state and prefix keeps the answer exact even where
        # an emulator applies only one of them.
        wanted_state, prefix = request.get("StateValue"), request.get("AlarmNamePrefix", "")
        found = [a for a in found if a["AlarmName"].startswith(prefix)
                 and (wanted_state is None or a["StateValue"] == wanted_state)]
        tags = settings.get("tags")
        if tags:
            found = [a for a in found if self._has_tags(cloudwatch, a["AlarmArn"], tags)]
        return found

    @staticmethod
    def _has_tags(cloudwatch: Any, alarm_arn: str, wanted: dict[str, str]) -> bool:
        tags = {t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)["Tags"]}
        return all(tags.get(key) == value for key, value in wanted.items())

    @staticmethod
    def _alarm_arn(environment: Environment, name: str) -> str:
        return resource_arn(environment, "cloudwatch", "alarm", name)
