"""CloudWatch GetMetricWidgetImage, which moto lacks: a real PNG of the metric data moto stores.

The sandbox's subset of the MetricWidget JSON: `metrics` rows `[namespace, name, dim, value, ...,
{stat, period}]` (a "." repeats the previous row's entry at that place), `stat` (SampleCount, Sum,
Average, Minimum, Maximum; other statistics are drawn as Average), `period`, `start`/`end`
(ISO 8601 times or durations before now such as `-PT3H`), `width`/`height` (1 to 2000 pixels), and
`annotations.horizontal` / `.vertical` (`value` a number / a time). Metric math rows
(`{"expression": ...}`) are accepted and not drawn. The image has no text (see `chart_png`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from opsgate.sandbox.moto_extensions._common import aws_error, now
from opsgate.sandbox.moto_extensions.chart_png import LineChart
from opsgate.sandbox.moto_extensions.cloudwatch import _time

STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
MAX_SIDE = 2000
MAX_WIDGET_BYTES = 100 * 1024  # AWS's limit for the MetricWidget payload
_BEFORE_NOW = re.compile(r"^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _invalid(message: str) -> Exception:
    return aws_error("InvalidParameterInput", message)


def _moment(value: Any, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    text = str(value)
    relative = _BEFORE_NOW.match(text)
    if relative and any(relative.groups()):
        weeks, days, hours, minutes, seconds = (int(part or 0) for part in relative.groups())
        return now() - timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    try:
        return _time(text)  # type: ignore[return-value]
    except ValueError:
        raise _invalid(f"{name} must be an ISO 8601 time or a duration such as -PT3H, not {text[:40]!r}") from None


def _side(widget: dict[str, Any], name: str, default: int) -> int:
    value = widget.get(name, default)
    if not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
        raise _invalid(f"{name} must be a whole number of pixels from 1 to {MAX_SIDE}")
    return value


def _metric_rows(widget: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    """(namespace, name, dimension pairs...) and the row's options, "." resolved."""
    rows = widget.get("metrics")
    if not isinstance(rows, list) or not rows:
        raise _invalid("metrics must be a non-empty array of metric arrays")
    resolved: list[tuple[list[str], dict[str, Any]]] = []
    previous: list[str] = []
    for index, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise _invalid(f"metrics[{index}] must be a non-empty array")
        options = row[-1] if isinstance(row[-1], dict) else {}
        names = row[:-1] if isinstance(row[-1], dict) else row
        if not names and "expression" in options:
            continue  # metric math: accepted, not drawn here
        if not all(isinstance(part, str) for part in names) or len(names) < 2 or len(names) % 2:
            raise _invalid(f"metrics[{index}] must be [namespace, metric name, dimension name, value, ...]")
        names = [previous[i] if part == "." and i < len(previous) else part for i, part in enumerate(names)]
        previous = names
        resolved.append((names, options))
    return resolved


def _series(response: CloudWatchResponse, names: list[str], stat: str, period: int,
            start: datetime, end: datetime) -> list[tuple[float, float]]:
    namespace, metric, pairs = names[0], names[1], names[2:]
    dimensions = [{"Name": pairs[i], "Value": pairs[i + 1]} for i in range(0, len(pairs), 2)]
    drawn = stat if stat in STATISTICS else "Average"
    backend = cloudwatch_backends[response.current_account][response.region]
    # moto keeps metric timestamps as naive UTC.
    naive = [moment.astimezone(timezone.utc).replace(tzinfo=None) for moment in (start, end)]
    points = backend.get_metric_statistics(namespace, metric, *naive, period, [drawn], dimensions=dimensions)
    return [(p.timestamp.replace(tzinfo=timezone.utc).timestamp(), float(value)) for p in points
            if (value := p.get_statistics_for_type(drawn)) is not None]


def _annotations(widget: dict[str, Any]) -> tuple[list[float], list[float]]:
    annotations = widget.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise _invalid("annotations must be an object with horizontal and vertical arrays")
    flat = {kind: [item for entry in annotations.get(kind) or []
                   for item in (entry if isinstance(entry, list) else [entry])] for kind in ("horizontal", "vertical")}
    horizontal, vertical = [], []
    for item in flat["horizontal"]:
        if not isinstance(item, dict) or not isinstance(item.get("value"), (int, float)):
            raise _invalid("each horizontal annotation needs a numeric value")
        horizontal.append(float(item["value"]))
    for item in flat["vertical"]:
        if not isinstance(item, dict) or "value" not in item:
            raise _invalid("each vertical annotation needs a value (a time)")
        vertical.append(_moment(item["value"], "annotations.vertical.value", now()).timestamp())
    return horizontal, vertical


def get_metric_widget_image(self: CloudWatchResponse) -> ActionResult:
    text = self._get_param("MetricWidget") or ""
    output = (self._get_param("OutputFormat") or "png").lower()
    if output != "png":
        raise _invalid("OutputFormat must be png")
    if len(text.encode()) > MAX_WIDGET_BYTES:
        raise _invalid("MetricWidget is larger than 100 KB")
    try:
        widget = json.loads(text)
    except ValueError:
        raise _invalid("MetricWidget is not valid JSON") from None
    if not isinstance(widget, dict):
        raise _invalid("MetricWidget must be a JSON object")
    end = _moment(widget.get("end"), "end", now())
    start = _moment(widget.get("start"), "start", now() - timedelta(hours=3))
    if start >= end:
        raise _invalid("start must be before end")
    width, height = _side(widget, "width", 600), _side(widget, "height", 400)
    horizontal, vertical = _annotations(widget)
    chart = LineChart(width, height, start.timestamp(), end.timestamp(), horizontal=horizontal, vertical=vertical)
    for names, options in _metric_rows(widget):
        stat = str(options.get("stat") or widget.get("stat") or "Average")
        period = options.get("period") or widget.get("period") or 300
        if not isinstance(period, int) or period < 1:
            raise _invalid("period must be a whole number of seconds")
        chart.series.append(_series(self, names, stat, period, start, end))
    return ActionResult({"MetricWidgetImage": chart.png()})


EXTENSIONS = {CloudWatchResponse: {"get_metric_widget_image": get_metric_widget_image}}
