"""The intake queue reader against moto over HTTP (real boto3) and a real store: EventBridge samples
through SQS, deletion only after storing, a reader dying between the two, poison messages, and
several readers on one queue."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from opsgate.adapters.intake.recorder import EventRecorder
from opsgate.adapters.intake.sqs_consumer import QueueConsumers, QueueReader
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.store.tables_events import events
from opsgate.domain.catalog import Environment
from opsgate.domain.intake import IntakeQueue
from opsgate.metrics import REGISTRY
from opsgate.testing import FakeClock

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "events").glob("eventbridge_*.json"))
ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
ENV = Environment("prod", ACCOUNT, REGION)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def sqs(aws_endpoint):
    return boto3.client("sqs", region_name=REGION, endpoint_url=aws_endpoint)


def make_queue(sqs, name: str = "opsgate-events", visibility_s: int = 30) -> str:
    return sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility_s)})["QueueUrl"]


def reader(store, aws_endpoint, *, name: str = "opsgate-events", on_stored=lambda: None) -> QueueReader:
    recorder = EventRecorder(store, FakeClock(), on_stored=on_stored)
    sessions = SessionFactory(endpoint_url=aws_endpoint, max_attempts=2)
    return QueueReader(IntakeQueue("prod", name), ENV, sessions, recorder, wait_s=0)


def stored(store) -> list:
    """Every stored event (read, not claimed)."""
    with store.engine.connect() as conn:
        return list(conn.execute(events.select().order_by(events.c.id)))


def in_queue(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain(queue_reader: QueueReader, rounds: int = 20) -> int:
    return sum(queue_reader.poll_once() for _ in range(rounds))


def counted(source: str, result: str) -> float:
    return REGISTRY.get_sample_value("opsgate_intake_events_total", {"source": source, "result": result}) or 0.0


def test_eventbridge_samples_sent_through_sqs_are_stored_by_event_id_and_deleted(store, sqs, aws_endpoint):
    url = make_queue(sqs)
    samples = [json.loads(path.read_text()) for path in SAMPLES]
    for sample in samples:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(sample))  # what an EventBridge rule target sends
    first_of_id = {}
    for sample in samples:  # two samples share an event id: the same event, stored once
        first_of_id.setdefault(sample["id"], sample)
    before = counted("eventbridge", "stored"), counted("eventbridge", "duplicate")
    assert drain(reader(store, aws_endpoint)) == len(samples)
    events = stored(store)
    assert {e.source for e in events} == {"eventbridge"}
    assert {e.external_id: e.body for e in events} == first_of_id
    assert in_queue(sqs, url) == 0
    assert counted("eventbridge", "stored") - before[0] == len(first_of_id)
    assert counted("eventbridge", "duplicate") - before[1] == len(samples) - len(first_of_id)


def test_events_put_on_an_eventbridge_bus_reach_the_store_through_a_rule(store, sqs, aws_endpoint):
    url = make_queue(sqs)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION, endpoint_url=aws_endpoint)
    events.put_rule(Name="to-opsgate", EventPattern=json.dumps({"source": ["acme.deploy"]}))
    events.put_targets(Rule="to-opsgate", Targets=[{"Id": "opsgate", "Arn": arn}])
    sample = json.loads((SAMPLES[0]).read_text())
    events.put_events(Entries=[{"Source": "acme.deploy", "DetailType": sample["detail-type"],
                                "Detail": json.dumps(sample["detail"]), "Resources": sample["resources"]}])
    assert drain(reader(store, aws_endpoint)) == 1
    [event] = stored(store)
    assert event.source == "eventbridge" and event.external_id == event.body["id"]
    assert event.body["detail-type"] == sample["detail-type"] and event.body["detail"] == sample["detail"]


def test_sns_envelopes_and_other_json_are_stored_under_their_own_ids(store, sqs, aws_endpoint):
    url = make_queue(sqs)
    envelope = {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:t",
                "Message": "{}"}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))
    raw = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"AlarmName": "cpu"}))["MessageId"]
    drain(reader(store, aws_endpoint))
    assert {(e.source, e.external_id) for e in stored(store)} == {("sns", "sns-1"), ("sqs", raw)}


@pytest.mark.parametrize("body, problem", [("not json {", "not JSON"), ("[1, 2]", "not a JSON object"),
                                           ('{"a": NaN}', "not JSON")])
def test_a_poison_message_is_stored_as_it_came_and_deleted(store, sqs, aws_endpoint, body, problem):
    url = make_queue(sqs)
    message_id = sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]
    assert drain(reader(store, aws_endpoint)) == 1
    [event] = stored(store)
    assert (event.source, event.external_id, event.body["body"]) == ("sqs", message_id, body)
    assert problem in event.body["problem"]
    assert in_queue(sqs, url) == 0  # never redelivered forever


def test_a_reader_dying_after_storing_leaves_the_batch_to_be_stored_once_more_and_deleted(store, sqs, aws_endpoint):
    url = make_queue(sqs, visibility_s=1)
    ids = [f"event-{i}" for i in range(10)]
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": json.dumps({"id": event_id, "detail-type": "t", "source": "s"})}
        for i, event_id in enumerate(ids)])

    def die() -> None:
        raise Crash()

    with pytest.raises(Crash):  # stored and committed, then gone before DeleteMessageBatch
        reader(store, aws_endpoint, on_stored=die).poll_once()
    first_batch = len(stored(store))
    assert first_batch >= 1
    assert in_queue(sqs, url) == 10  # nothing was deleted

    duplicates = counted("eventbridge", "duplicate")
    second = reader(store, aws_endpoint)
    deadline = time.monotonic() + 15  # moto hides the received messages for their visibility timeout (1 s)
    received = 0
    while in_queue(sqs, url) and time.monotonic() < deadline:
        received += second.poll_once()
        time.sleep(0.05)
    assert received == 10
    assert counted("eventbridge", "duplicate") - duplicates == first_batch  # redelivered, recognised, not stored again
    assert sorted(e.external_id for e in stored(store)) == ids
    assert in_queue(sqs, url) == 0


def test_messages_are_not_deleted_when_the_store_fails(store, sqs, aws_endpoint):
    url = make_queue(sqs, visibility_s=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "e-1", "detail-type": "x", "source": "y"}))
    with store.engine.begin() as conn:  # a real failure: the table is gone
        conn.exec_driver_sql("ALTER TABLE events RENAME TO events_away")
    with pytest.raises(Exception):
        reader(store, aws_endpoint).poll_once()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events_away RENAME TO events")
    assert in_queue(sqs, url) == 1
    deadline = time.monotonic() + 15
    while not stored(store) and time.monotonic() < deadline:  # back after its visibility timeout
        reader(store, aws_endpoint).poll_once()
        time.sleep(0.1)
    assert [e.external_id for e in stored(store)] == ["e-1"]
    assert in_queue(sqs, url) == 0


def test_several_readers_on_one_queue_store_every_event_once(store, sqs, aws_endpoint):
    url = make_queue(sqs)
    for batch in range(5):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": f"e-{batch}-{i}", "detail-type": "t", "source": "s"})}
            for i in range(10)])
    new = counted("eventbridge", "stored")
    consumers = QueueConsumers([reader(store, aws_endpoint) for _ in range(3)], backoff_s=0.1, idle_s=0.05)
    consumers.start()
    deadline = time.monotonic() + 30
    while in_queue(sqs, url) and time.monotonic() < deadline:
        time.sleep(0.1)
    consumers.stop()
    ids = sorted(e.external_id for e in stored(store))
    assert ids == sorted(f"e-{b}-{i}" for b in range(5) for i in range(10))
    # A message two readers both received (SQS is at-least-once) is still stored once.
    assert counted("eventbridge", "stored") - new == 50


def queue_errors(label: str) -> float:
    return REGISTRY.get_sample_value("opsgate_intake_queue_errors_total", {"queue": label}) or 0.0


def test_a_failing_queue_is_counted_and_retried_without_stopping(store, sqs, aws_endpoint):
    before = queue_errors("prod/missing")
    consumers = QueueConsumers([reader(store, aws_endpoint, name="missing")], backoff_s=0.05)
    consumers.start()
    deadline = time.monotonic() + 15
    while queue_errors("prod/missing") - before < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    consumers.stop()
    assert queue_errors("prod/missing") - before >= 2  # tried again after failing


def test_new_events_wake_processing_once_per_batch_and_duplicates_do_not(store, sqs, aws_endpoint):
    url = make_queue(sqs)
    wakes = []
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": json.dumps({"id": "same", "detail-type": "t", "source": "s"})} for i in range(3)])
    drain(reader(store, aws_endpoint, on_stored=lambda: wakes.append(1)))
    assert len(stored(store)) == 1
    assert 1 <= len(wakes) <= 3
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "same", "detail-type": "t", "source": "s"}))
    before = len(wakes)
    drain(reader(store, aws_endpoint, on_stored=lambda: wakes.append(1)))
    assert len(wakes) == before  # a duplicate wakes nothing


def test_the_generated_policy_grants_every_call_the_reader_makes_and_no_more(store, sqs, aws_endpoint):
    from opsgate.adapters.aws.iam_policy import CallRecorder, intake_queue_permissions

    url = make_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "e-1", "detail-type": "t", "source": "s"}))
    session = boto3.session.Session(region_name=REGION)
    recorder = CallRecorder()
    recorder.attach(session)
    queue = IntakeQueue("prod", "opsgate-events")
    queue_reader = QueueReader(queue, ENV, SessionFactory(endpoint_url=aws_endpoint, base_session=session),
                               EventRecorder(store, FakeClock()), wait_s=0)
    drain(queue_reader, rounds=2)
    batch_as = {"sqs:DeleteMessageBatch": "sqs:DeleteMessage"}  # IAM authorises batches as the single action
    called = {batch_as.get(call.action, call.action) for call in recorder.calls}
    granted = intake_queue_permissions(ENV, [queue, IntakeQueue("dev", "not-this-role")])
    assert called == {p.action for p in granted} == {"sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"}
    assert {p.resource for p in granted} == {f"arn:aws:sqs:{REGION}:{ACCOUNT}:opsgate-events"}
