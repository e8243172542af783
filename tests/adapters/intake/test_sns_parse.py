"""The envelope parser: arbitrary bytes and JSON only ever raise SnsRefused."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.adapters.intake.sns import MESSAGE_TYPES, SnsRefused, parse_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=6),
    max_leaves=30,
)
envelope_keys = st.sampled_from(["Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
                                 "Signature", "SigningCertURL", "Subject", "SubscribeURL", "Token"])
headers = st.none() | st.sampled_from(MESSAGE_TYPES) | st.text(max_size=20)


def _parses_or_refuses(data: bytes, header: str | None) -> None:
    try:
        message = parse_message(data, header)
    except SnsRefused as refusal:
        assert refusal.reason in ("malformed", "too_large")
        return
    assert message.type == header
    assert message.canonical_string()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), headers)
def test_arbitrary_bytes(data, header):
    _parses_or_refuses(data, header)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(envelope_keys, json_values | st.text(max_size=40), max_size=11), headers)
def test_arbitrary_envelopes(envelope, header):
    _parses_or_refuses(json.dumps(envelope).encode(), header)


def test_deeply_nested_json_is_malformed_not_a_crash():
    data = b"[" * 100000 + b"]" * 100000
    try:
        parse_message(data, "Notification", max_body_bytes=10**6)
    except SnsRefused as refusal:
        assert refusal.reason == "malformed"
