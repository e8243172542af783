"""/metrics: Prometheus text with the request, outbox, line, chat and AWS numbers."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from prometheus_client.parser import text_string_to_metric_families

from opsgate import metrics
from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.chat.slack.errors import SlackSendError, map_slack_errors
from opsgate.errors import AutomationError
from opsgate.metering import counted_lines
from opsgate.domain.message import Reply


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_request_outcomes_waiting_requests_and_the_outbox(world_factory):
    world = world_factory()
    world.say("alice", "restart web dev")
    world.say("alice", "restart api dev")
    world.say("alice", "restart web prod")  # waits for an approval
    refused = world.say("bob", "restart web prod").request_id
    world.say("carol", f"deny {refused}")
    answer = world.http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    assert found[("opsgate_requests_total", (("command", "restart"), ("outcome", "succeeded")))] == 2
    assert found[("opsgate_requests_total", (("command", "restart"), ("outcome", "denied")))] == 1
    assert found[("opsgate_requests_waiting", (("state", "awaiting_approval"),))] == 1
    assert found[("opsgate_database_up", ())] == 1
    with world.app.store.transaction() as tx:
        assert tx.outbox_counts() == {}  # the recording chat queues nothing: no outbox rows


def test_decision_latency_is_the_wait_from_request_to_decision(world_factory):
    world = world_factory()
    before = value("opsgate_decision_seconds_count", outcome="approved")
    within_5min = value("opsgate_decision_seconds_bucket", outcome="approved", le="300.0")
    rid = world.say("alice", "restart web prod").request_id
    world.clock.advance(seconds=200)
    world.say("carol", f"approve {rid}")
    assert value("opsgate_decision_seconds_count", outcome="approved") == before + 1
    assert value("opsgate_decision_seconds_bucket", outcome="approved", le="300.0") == within_5min + 1
    assert "opsgate_decision_seconds_bucket" in world.http.get("/metrics").text


def test_the_metrics_token_is_required_when_set(world_factory):
    world = world_factory({"OPSGATE_METRICS_TOKEN": "scrape-secret"})
    refused = world.http.get("/metrics")
    assert refused.status_code == 401 and "OPSGATE_METRICS_TOKEN" in refused.text
    assert world.http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert world.http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_lines_are_counted_and_timed_by_platform_and_result():
    handle = counted_lines("test", lambda inbound: Reply("no", ok=False))
    ok_handle = counted_lines("test", lambda inbound: Reply("yes"))
    before_ok, before_refused = value("opsgate_lines_total", platform="test", result="ok"), value(
        "opsgate_lines_total", platform="test", result="refused")
    ok_handle("line")
    handle("bad")
    assert value("opsgate_lines_total", platform="test", result="ok") == before_ok + 1
    assert value("opsgate_lines_total", platform="test", result="refused") == before_refused + 1
    assert value("opsgate_line_seconds_count", platform="test") == before_ok + before_refused + 2


def test_aws_errors_are_counted_by_service_and_kind():
    before = value("opsgate_aws_errors_total", service="lambda", kind="access_denied")
    unreachable = value("opsgate_aws_errors_total", service="lambda", kind="unreachable")
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"},
                          "ResponseMetadata": {"HTTPStatusCode": 403}}, "Invoke")
    for problem in (denied, EndpointConnectionError(endpoint_url="http://127.0.0.1:9")):
        with pytest.raises(AutomationError), map_boto_errors(service="lambda"):
            raise problem
    assert value("opsgate_aws_errors_total", service="lambda", kind="access_denied") == before + 1
    assert value("opsgate_aws_errors_total", service="lambda", kind="unreachable") == unreachable + 1


def test_slack_errors_are_counted_by_method_and_kind():
    before = value("opsgate_slack_errors_total", method="chat.postMessage", kind="unavailable")
    with pytest.raises(SlackSendError), map_slack_errors("chat.postMessage"):
        raise ConnectionRefusedError("refused")
    assert value("opsgate_slack_errors_total", method="chat.postMessage", kind="unavailable") == before + 1
