"""Logs Insights in the sandbox: the documented query subset over the log events moto stores."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from opsgate.sandbox.moto_extensions import hold_queries
from tests.adapters.aws.sandbox_fixtures import PROD

GROUP = "/app/web"
NOW_S = int(time.time())


@pytest.fixture
def logs(prod_clients):
    """Ten events a minute apart, oldest first, in two streams; odd ones are errors."""
    client = prod_clients.client("logs")
    client.create_log_group(logGroupName=GROUP)
    for stream in ("a", "b"):
        client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    for index in range(10):
        level = "ERROR" if index % 2 else "INFO"
        client.put_log_events(logGroupName=GROUP, logStreamName="ab"[index % 2], logEvents=[
            {"timestamp": (NOW_S - 600 + 60 * index) * 1000, "message": f"{level} request {index} done"}])
    return client


def run(logs, query: str, **extra) -> list[dict[str, str]]:
    started = logs.start_query(logGroupName=GROUP, startTime=NOW_S - 3600, endTime=NOW_S + 60, queryString=query,
                               **extra)
    answer = logs.get_query_results(queryId=started["queryId"])
    assert answer["status"] == "Complete"
    return [{cell["field"]: cell["value"] for cell in row} for row in answer["results"]]


def test_filter_like_a_regex_keeps_matching_events_newest_first(logs):
    rows = run(logs, "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc")
    assert [r["@message"] for r in rows] == [f"ERROR request {i} done" for i in (9, 7, 5, 3, 1)]
    assert all(set(r) == {"@timestamp", "@message", "@ptr"} for r in rows)
    assert rows[0]["@timestamp"] > rows[1]["@timestamp"]


def test_like_a_string_not_like_and_or_combine(logs):
    assert [r["@message"] for r in run(logs, 'fields @message | filter @message like "request 4"')] == [
        "INFO request 4 done"]
    rows = run(logs, "fields @message | filter @message like /request [0-3] / and @message not like /ERROR/")
    assert [r["@message"] for r in rows] == ["INFO request 2 done", "INFO request 0 done"]
    rows = run(logs, "fields @message | filter @message =~ /request 8/ or @message like /request 1 /")
    assert [r["@message"] for r in rows] == ["INFO request 8 done", "ERROR request 1 done"]


def test_sort_ascending_limit_and_the_calls_limit(logs):
    rows = run(logs, "fields @message, @logStream | sort @timestamp asc | limit 3")
    assert [(r["@message"], r["@logStream"]) for r in rows] == [
        ("INFO request 0 done", "a"), ("ERROR request 1 done", "b"), ("INFO request 2 done", "a")]
    assert len(run(logs, "fields @message", limit=2)) == 2


def test_the_time_range_bounds_the_events(logs):
    started = logs.start_query(logGroupName=GROUP, startTime=NOW_S - 150, endTime=NOW_S + 60,
                               queryString="fields @message")
    rows = logs.get_query_results(queryId=started["queryId"])["results"]
    assert len(rows) == 2  # the events 120 and 60 seconds ago


@pytest.mark.parametrize("query, expected", [
    ("stats count() by bin(5m)", "the `stats` command is not supported"),
    ("fields @message, requestId", "unknown fields requestId"),
    ("filter @message like ERROR", "needs a /regex/ or a \"string\""),
    ("filter @message like /(/", "regular expression /(/ is invalid"),
    ("sort @message", "cannot sort by `@message`"),
])
def test_queries_outside_the_subset_are_refused_naming_it(logs, query, expected):
    with pytest.raises(ClientError) as refused:
        logs.start_query(logGroupName=GROUP, startTime=NOW_S - 60, endTime=NOW_S, queryString=query)
    assert refused.value.response["Error"]["Code"] == "MalformedQueryException"
    assert expected in refused.value.response["Error"]["Message"]
    assert "the sandbox supports" in refused.value.response["Error"]["Message"]


def test_a_missing_log_group_is_not_found(logs):
    with pytest.raises(ClientError) as refused:
        logs.start_query(logGroupName="/nope", startTime=NOW_S - 60, endTime=NOW_S, queryString="fields @message")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_held_query_stays_running_then_completes_and_can_be_stopped(logs):
    hold_queries(2, account_id=PROD.account, region=PROD.region)
    first = logs.start_query(logGroupName=GROUP, startTime=NOW_S - 3600, endTime=NOW_S + 60,
                             queryString="fields @message")["queryId"]
    assert [logs.get_query_results(queryId=first)["status"] for _ in range(3)] == ["Running", "Running", "Complete"]
    assert logs.stop_query(queryId=first)["success"] is False  # finished already
    second = logs.start_query(logGroupName=GROUP, startTime=NOW_S - 3600, endTime=NOW_S + 60,
                              queryString="fields @message")["queryId"]
    assert logs.stop_query(queryId=second)["success"] is True
    answer = logs.get_query_results(queryId=second)
    assert (answer["status"], answer["results"]) == ("Cancelled", [])
