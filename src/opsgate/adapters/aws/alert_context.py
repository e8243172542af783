"""The AlertContext port on AWS: a chart of an alarm's metric and the log lines around its state change.

For a CloudWatch alarm alert, in the alarm's account (the environment role, read-only calls):

- `DescribeAlarms` reads the alarm's metric (or metric math), statistic, period and threshold;
  `GetMetricWidgetImage` draws it from `chart_before_s` before the state change to `chart_after_s`
  after, with the threshold and the moment of the change marked. Composite alarms have no metric
  of their own: no chart, and the message says so.
- With a `LogQuery`, Logs Insights `StartQuery` over the window before the change, then
  `GetQueryResults` until it finishes or the time budget runs out (then `StopQuery`). Only the
  query's fields are shown, one line per result, cut to a length, control characters dropped and
  secret-looking values masked (`core.alert_context.safe_log_line`).

Nothing here raises for AWS trouble: what could not be fetched becomes a short `problems` entry
(via `map_boto_errors`, so it says what to grant or fix). The whole call stays within
`time_budget_s`, measured on the injected clock; give the SessionFactory read timeouts below the
budget so that one slow answer cannot outlast it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.names import console_url
from opsgate.adapters.aws.session import SessionFactory
from opsgate.core.alert_context import safe_log_line
from opsgate.domain.alert_context import PNG_SIGNATURE, LogQuery
from opsgate.domain.alerts import Alert
from opsgate.domain.catalog import Environment
from opsgate.errors import AutomationError
from opsgate.ports import AlertAttachments, Clock, RunContext

log = logging.getLogger("opsgate.alert_context")

ALARM_KINDS = ("metric_alarm", "composite_alarm")
SESSION_REQUEST = "alert-context"  # sessions are named opsgate-alert-context, as person "opsgate"
MAX_CHART_BYTES = 1024 * 1024  # real widget images are 20-80 KB; anything near this is not a chart
QUERY_FINISHED = ("Complete", "Failed", "Cancelled", "Timeout", "Unknown")
_OPERATORS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
              "LessThanOrEqualToThreshold": "<="}
THRESHOLD_COLOR = "#d62728"
CHANGE_COLOR = "#ff7f0e"


@dataclass(frozen=True, slots=True)
class ChartWindow:
    start: datetime
    change: datetime
    end: datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _metric_row(metric: dict[str, Any], options: dict[str, Any]) -> list[Any]:
    row: list[Any] = [metric["Namespace"], metric["MetricName"]]
    for dimension in metric.get("Dimensions") or []:
        row += [dimension["Name"], dimension["Value"]]
    return row + [options]


def metric_rows(alarm: dict[str, Any]) -> list[list[Any]]:
    """The alarm's metric (or metric math) as MetricWidget `metrics` rows."""
    if alarm.get("MetricName"):
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "Average"
        return [_metric_row(alarm, {"stat": stat, "period": alarm.get("Period") or 300})]
    rows = []
    for query in alarm.get("Metrics") or []:
        shown = {"id": query["Id"], "visible": query.get("ReturnData", True)}
        if query.get("Label"):
            shown["label"] = query["Label"]
        if "MetricStat" in query:
            stat = query["MetricStat"]
            rows.append(_metric_row(stat["Metric"], {**shown, "stat": stat["Stat"], "period": stat["Period"]}))
        elif "Expression" in query:
            rows.append([{**shown, "expression": query["Expression"]}])
    return rows


def metric_widget(alarm: dict[str, Any], window: ChartWindow, state: str, title: str, *,
                  width: int = 800, height: int = 400) -> dict[str, Any]:
    """The MetricWidget JSON: the alarm's metric over the window, threshold and change marked."""
    annotations: dict[str, Any] = {"vertical": [{"label": state, "value": iso(window.change), "color": CHANGE_COLOR}]}
    if alarm.get("Threshold") is not None:
        label = " ".join(part for part in ("threshold", _OPERATORS.get(alarm.get("ComparisonOperator", ""), ""),
                                           f"{alarm['Threshold']:g}") if part)
        annotations["horizontal"] = [{"label": label, "value": alarm["Threshold"], "color": THRESHOLD_COLOR}]
    return {
        "metrics": metric_rows(alarm), "annotations": annotations, "title": title, "view": "timeSeries",
        "start": iso(window.start), "end": iso(window.end), "timezone": "+0000",
        "period": alarm.get("Period") or 300, "width": width, "height": height, "legend": {"position": "bottom"},
    }


def chart_title(alarm: dict[str, Any], window: ChartWindow) -> str:
    if alarm.get("MetricName"):
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "Average"
        what = f"{alarm.get('Namespace', '')} {alarm['MetricName']} ({stat}, {alarm.get('Period') or 300} s)"
    else:
        what = "metric math"
    return (f"{alarm['AlarmName']}: {what}, {window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC, "
            f"state change at {window.change:%H:%M}")


def _jsurl(text: str) -> str:
    """A value inside the console's Logs Insights URL: letters, digits and `_.-` as they are,
    anything else `*XX` (`**XXXX` beyond Latin-1), the encoding the console reads."""
    out = []
    for char in text:
        if char.isascii() and (char.isalnum() or char in "_.-"):
            out.append(char)
        elif ord(char) < 256:
            out.append(f"*{ord(char):02x}")
        else:
            out.append(f"**{ord(char):04x}")
    return "".join(out)


def logs_insights_url(region: str, log_group: str, query: str, start: datetime, end: datetime) -> str:
    """A console link that opens Logs Insights with the query, its log group and time range."""
    detail = (f"~(end~'{_jsurl(iso(end))}~start~'{_jsurl(iso(start))}~timeType~'ABSOLUTE~tz~'UTC"
              f"~editorString~'{_jsurl(query)}~source~(~'{_jsurl(log_group)}))")
    escaped = detail.replace("(", "$28").replace(")", "$29").replace("'", "$27")
    return console_url(region, f"cloudwatch/home?region={region}#logsV2:logs-insights$3FqueryDetail$3D{escaped}")


def result_line(row: list[dict[str, Any]]) -> str:
    """One Logs Insights result as a line: built-in fields (`@timestamp`, `@message`) as values,
    the query's own fields as `name=value`; `@ptr` (a pointer, not data) is left out."""
    parts = []
    for cell in row:
        name, value = str(cell.get("field", "")), str(cell.get("value", ""))
        if name == "@ptr" or not value:
            continue
        parts.append(value if name.startswith("@") else f"{name}={value}")
    return safe_log_line("  ".join(parts))


class AwsAlertContext:
    def __init__(self, sessions: SessionFactory, environments: Iterable[Environment], clock: Clock, *,
                 time_budget_s: float = 10.0, poll_s: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 chart_before_s: float = 3 * 3600, chart_after_s: float = 30 * 60,
                 width: int = 800, height: int = 400) -> None:
        self.sessions = sessions
        self.environments = list(environments)
        self.clock = clock
        self.time_budget_s = time_budget_s
        self.poll_s = poll_s
        self.sleep = sleep
        self.chart_before = timedelta(seconds=chart_before_s)
        self.chart_after = timedelta(seconds=chart_after_s)
        self.width, self.height = width, height

    def attachments(self, alert: Alert, log_query: LogQuery | None) -> AlertAttachments:
        if alert.source != "cloudwatch" or alert.kind not in ALARM_KINDS:
            return AlertAttachments()  # charts and log lines are for alarms
        env = self.environment_of(alert)
        if env is None:
            return AlertAttachments(problems=(
                f"No chart or log lines: account {alert.account or '(unknown)'} in {alert.region or '(unknown)'} "
                "belongs to no environment in the catalog.",))
        deadline = self.clock.now() + timedelta(seconds=self.time_budget_s)
        region = alert.region or env.region
        ctx = RunContext(request_id=SESSION_REQUEST, person_id="opsgate", environment=env)
        name = alert.labels.get("alarm_name") or alert.title
        problems: list[str] = []
        png, title = self._guarded("Chart", problems, lambda: self._chart(env, ctx, region, name, alert), (None, ""))
        lines: tuple[str, ...] = ()
        url = ""
        if log_query is not None:
            start, end = self._log_window(alert.occurred_at, log_query)
            url = logs_insights_url(region, log_query.log_group, log_query.query, start, end)
            lines = self._guarded("Log lines", problems,
                                  lambda: self._log_lines(env, ctx, region, log_query, start, end, deadline), ())
        return AlertAttachments(chart_png=png, chart_title=title, log_lines=lines, log_query_url=url,
                                problems=tuple(problems))

    def environment_of(self, alert: Alert) -> Environment | None:
        """The alert's environment if it names one in the alarm's account; else an environment in
        that account (the same region first): any role there may read the alarm."""
        named = next((e for e in self.environments if e.name == alert.environment), None)
        if named is not None and (not alert.account or named.account == alert.account):
            return named
        in_account = [e for e in self.environments if alert.account and e.account == alert.account]
        in_account.sort(key=lambda e: e.region != alert.region)
        return in_account[0] if in_account else None

    # -- the chart ---------------------------------------------------------------------------------

    def _chart(self, env: Environment, ctx: RunContext, region: str, name: str,
               alert: Alert) -> tuple[bytes | None, str]:
        cloudwatch = self.sessions.client("cloudwatch", env, ctx, region=region)
        with map_boto_errors(service="cloudwatch", role_arn=env.role_arn, resource=f"alarm {name}"):
            found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        if found.get("CompositeAlarms"):
            raise AutomationError(f"{name} is a composite alarm: it has no metric of its own to chart "
                                  "(the messages of its alarms carry theirs).")
        if not found.get("MetricAlarms"):
            raise AutomationError(f"alarm {name} was not found in account {env.account}, {region}.")
        alarm = found["MetricAlarms"][0]
        if not metric_rows(alarm):
            raise AutomationError(f"alarm {name} names no metric to chart.")
        change = alert.occurred_at.astimezone(timezone.utc)
        window = ChartWindow(change - self.chart_before, change, min(change + self.chart_after, self.clock.now()))
        if window.end <= change:  # the clock is behind the alarm: show up to the change itself
            window = ChartWindow(window.start, change, change + timedelta(minutes=1))
        title = chart_title(alarm, window)
        widget = metric_widget(alarm, window, alert.labels.get("state", "ALARM"), title,
                               width=self.width, height=self.height)
        with map_boto_errors(service="cloudwatch", role_arn=env.role_arn, resource=f"alarm {name}"):
            image = cloudwatch.get_metric_widget_image(MetricWidget=json.dumps(widget), OutputFormat="png")
        png = image.get("MetricWidgetImage") or b""
        if not png.startswith(PNG_SIGNATURE):
            raise AutomationError("CloudWatch answered with something that is not a PNG image.")
        if len(png) > MAX_CHART_BYTES:
            raise AutomationError(f"the image is {len(png) // 1024} KiB, more than the {MAX_CHART_BYTES // 1024} KiB "
                                  "opsgate attaches.")
        return png, title

    # -- the log lines -----------------------------------------------------------------------------

    def _log_window(self, change: datetime, query: LogQuery) -> tuple[datetime, datetime]:
        change = change.astimezone(timezone.utc)
        end = max(change + timedelta(minutes=1), min(self.clock.now(), change + self.chart_after))
        return change - timedelta(seconds=query.window_s), end

    def _log_lines(self, env: Environment, ctx: RunContext, region: str, query: LogQuery,
                   start: datetime, end: datetime, deadline: datetime) -> tuple[str, ...]:
        if self.clock.now() >= deadline:
            raise AutomationError(f"no time was left for the log query (the budget is {self.time_budget_s:g} s).")
        logs = self.sessions.client("logs", env, ctx, region=region)
        with map_boto_errors(service="logs", role_arn=env.role_arn, resource=f"log group {query.log_group}"):
            query_id = logs.start_query(logGroupName=query.log_group, queryString=query.query,
                                        startTime=int(start.timestamp()), endTime=int(end.timestamp()),
                                        limit=query.limit)["queryId"]
            while True:
                answer = logs.get_query_results(queryId=query_id)
                status = answer.get("status", "Unknown")
                if status in QUERY_FINISHED:
                    break
                left_s = (deadline - self.clock.now()).total_seconds()
                if left_s <= 0:
                    self._stop(logs, query_id)
                    raise AutomationError(f"the log query did not finish within {self.time_budget_s:g} s; "
                                          "it was stopped (open it in the console).")
                self.sleep(min(self.poll_s, left_s))
        if status != "Complete":
            raise AutomationError(f"the log query ended {status}.")
        lines = [result_line(row) for row in answer.get("results", [])[: query.limit]]
        return tuple(line for line in lines if line)

    @staticmethod
    def _stop(logs: Any, query_id: str) -> None:
        try:
            with map_boto_errors(service="logs"):
                logs.stop_query(queryId=query_id)
        except AutomationError as err:  # the query ends by itself within 60 minutes anyway
            log.info("could not stop a log query", extra={"query_id": query_id, "error": err.message})

    # -- errors ------------------------------------------------------------------------------------

    @staticmethod
    def _guarded(what: str, problems: list[str], fetch: Callable[[], Any], nothing: Any) -> Any:
        """Run one fetch; its failure becomes a problem line, never an exception: the alert's
        message goes out with or without its chart."""
        try:
            return fetch()
        except AutomationError as err:
            log.warning("alert context incomplete", extra={"part": what, "problem": err.message})
            problems.append(f"{what}: {err.message}")
        except Exception:  # an answer of an unexpected shape: logged for operators, small note in chat
            log.exception("alert context fetch failed", extra={"part": what})
            problems.append(f"{what}: could not be fetched (an unexpected answer from AWS; see opsgate's log).")
        return nothing
