"""Approval-queue messages: Step Functions task tokens and CodePipeline approval notifications."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.adapters.aws.approval_queue import parse_message
from opsgate.core.workflow import PipelineApproval, StepRequest

PIPELINE_NOTIFICATION = {
    "region": "eu-west-1",
    "consoleLink": "https://console.aws.amazon.com/codepipeline/home?region=eu-west-1#/view/web-release",
    "approval": {"pipelineName": "web-release", "stageName": "Approve", "actionName": "ProdApproval",
                 "token": "1a2b", "expires": "2026-03-09T09:00Z", "customData": "Release 1.2 to prod"},
}


def test_step_functions_token_message():
    body = json.dumps({"taskToken": "AAAA" * 100, "request_id": "r-abcdefgh", "step": "approve-rollback",
                       "summary": "Roll web back"})
    step = parse_message(body, "prod", "m-1")
    assert step == StepRequest("m-1", "prod", "AAAA" * 100, "approve-rollback", "Roll web back", "r-abcdefgh")


def test_codepipeline_notification_raw_and_in_an_sns_envelope():
    raw = parse_message(json.dumps(PIPELINE_NOTIFICATION), "prod", "m-2")
    assert raw == PipelineApproval("m-2", "prod", "web-release", "Approve", "ProdApproval", "Release 1.2 to prod")
    envelope = {"Type": "Notification", "MessageId": "x", "Message": json.dumps(PIPELINE_NOTIFICATION)}
    assert parse_message(json.dumps(envelope), "prod", "m-2") == raw


@pytest.mark.parametrize("body, problem", [
    ("not json", "is not JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"hello": 1}', "neither a Step Functions task token message nor a CodePipeline approval notification"),
    ('{"taskToken": ""}', "taskToken must be a non-empty string"),
    ('{"taskToken": 5}', "taskToken must be a non-empty string"),
    ('{"approval": {"pipelineName": "p"}}', "approval.stageName is missing"),
    ('{"taskToken": "t", "step": 7}', "step must be text"),
])
def test_malformed_messages_say_what_is_wrong(body, problem):
    with pytest.raises(ValueError, match=problem):
        parse_message(body, "prod", "m")


def test_oversized_message_is_refused():
    with pytest.raises(ValueError, match="larger than 256 KiB"):
        parse_message(json.dumps({"taskToken": "t" * (300 * 1024)}), "prod", "m")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=500), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["taskToken", "approval", "pipelineName", "stageName", "actionName", "Type", "Message", "step"]),
        inner, max_size=5),
    max_leaves=20).map(json.dumps)))
def test_any_body_either_parses_or_raises_value_error(body):
    try:
        parse_message(body, "prod", "m")
    except ValueError as err:
        assert str(err)
