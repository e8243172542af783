"""GetMetricWidgetImage in the sandbox: a real PNG that draws the metric data moto stores."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from opsgate.sandbox.moto_extensions.chart_png import MOMENT, SERIES, THRESHOLD
from tests.sandbox.png_reader import read_png

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
DIMENSIONS = [{"Name": "Service", "Value": "web"}]


@pytest.fixture
def cloudwatch(prod_clients):
    """Errors: 2 a minute for two and a half hours, then 40 a minute for the last 30 minutes."""
    client = prod_clients.client("cloudwatch")
    data = [{"MetricName": "Errors", "Dimensions": DIMENSIONS, "Timestamp": NOW - timedelta(minutes=m),
             "Value": 40.0 if m < 30 else 2.0} for m in range(0, 180, 5)]
    client.put_metric_data(Namespace="acme", MetricData=data)
    return client


def widget(**changes) -> str:
    body = {"metrics": [["acme", "Errors", "Service", "web", {"stat": "Maximum", "period": 300}]],
            "start": (NOW - timedelta(hours=3)).isoformat(), "end": NOW.isoformat(), "width": 300, "height": 200,
            "annotations": {"horizontal": [{"label": "threshold > 25", "value": 25}],
                            "vertical": [{"label": "ALARM", "value": (NOW - timedelta(minutes=30)).isoformat()}]}}
    body.update(changes)
    return json.dumps(body)


def image(cloudwatch, text: str):
    return read_png(cloudwatch.get_metric_widget_image(MetricWidget=text, OutputFormat="png")["MetricWidgetImage"])


def test_the_image_is_a_png_of_the_requested_size(cloudwatch):
    png = cloudwatch.get_metric_widget_image(MetricWidget=widget())["MetricWidgetImage"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    picture = read_png(png)
    assert (picture.width, picture.height) == (300, 200)


def test_the_line_is_below_the_threshold_before_the_change_and_above_it_after(cloudwatch):
    picture = image(cloudwatch, widget())
    threshold_rows = {y for _, y in picture.where(THRESHOLD)}
    assert len(threshold_rows) == 1  # one horizontal line
    [threshold_y] = threshold_rows
    [change_x] = {x for x, _ in picture.where(MOMENT)}  # one vertical line
    line = picture.where(SERIES[0])
    period_px = (300 - 48) / 36  # five minutes of three hours
    before = [y for x, y in line if x < change_x - 2]
    after = [y for x, y in line if x > change_x + period_px + 2]  # past the segment that climbs
    assert before and after
    assert min(before) > threshold_y  # pixels grow downwards: below the line means a larger y
    assert max(after) < threshold_y
    # the change half an hour before the end sits five sixths of the way along the time axis
    assert abs(change_x - (24 + 5 / 6 * (300 - 48 - 1))) <= 2


def test_a_metric_without_data_draws_axes_and_annotations_only(cloudwatch):
    picture = image(cloudwatch, widget(metrics=[["acme", "Nothing", {"stat": "Sum"}]]))
    assert picture.where(SERIES[0]) == []
    assert picture.where(THRESHOLD)


def test_relative_times_and_dot_shorthand_are_understood(cloudwatch):
    rows = [["acme", "Errors", "Service", "web"], [".", ".", ".", ".", {"stat": "SampleCount"}]]
    picture = image(cloudwatch, widget(metrics=rows, start="-PT1H", end="-PT0H", annotations={}))
    assert picture.where(SERIES[0]) and picture.where(SERIES[1])


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON"),
    (json.dumps({"metrics": []}), "metrics must be a non-empty array"),
    (widget(width=5000), "width must be a whole number of pixels from 1 to 2000"),
    (widget(start="yesterday"), "start must be an ISO 8601 time"),
    (widget(start=NOW.isoformat(), end=(NOW - timedelta(hours=1)).isoformat()), "start must be before end"),
    (widget(metrics=[["acme"]]), "metrics[0] must be [namespace, metric name"),
    (widget(annotations={"horizontal": [{"value": "high"}]}), "numeric value"),
])
def test_a_bad_widget_is_refused_with_a_reason(cloudwatch, text, expected):
    with pytest.raises(ClientError) as refused:
        cloudwatch.get_metric_widget_image(MetricWidget=text)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterInput"
    assert expected in refused.value.response["Error"]["Message"]
