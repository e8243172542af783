"""What an SQS message becomes: EventBridge events keyed by their id, SNS envelopes by MessageId,
anything else by the SQS message id; never an exception, whatever the body."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.adapters.intake.sqs_consumer import received_from_sqs

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "events").glob("*.json"))


def message(body: str, message_id: str = "sqs-1") -> dict:
    return {"MessageId": message_id, "ReceiptHandle": "r", "Body": body}


def test_every_sample_is_kept_whole_under_the_id_its_sender_gave():
    for path in SAMPLES:
        data = json.loads(path.read_text())
        event = received_from_sqs(message(json.dumps(data)))
        assert event.body == data
        if path.name.startswith("eventbridge_"):
            assert (event.source, event.external_id) == ("eventbridge", data["id"])
        elif data.get("Type") == "Notification":
            assert (event.source, event.external_id) == ("sns", data["MessageId"])
        else:
            assert (event.source, event.external_id) == ("sqs", "sqs-1")


def test_an_event_id_too_long_to_be_real_falls_back_to_the_sqs_id():
    event = received_from_sqs(message(json.dumps({"id": "x" * 500, "detail-type": "t", "source": "s"})))
    assert (event.source, event.external_id) == ("sqs", "sqs-1")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_body_becomes_a_storable_event(body):
    event = received_from_sqs(message(body))
    assert event.source in ("eventbridge", "sns", "sqs") and event.external_id
    orjson.dumps(event.body)  # what the store does with it
