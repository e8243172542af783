"""Malformed input raises EventError naming the field, and nothing else ever escapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsgate.core.notifications import EventError, normalise
from tests.core.notifications.event_samples import (
    INDEX,
    NAMES,
    sample,
    sns_message,
    with_message,
)


def field_of(raw: Any) -> str:
    with pytest.raises(EventError) as caught:
        normalise(raw, INDEX)
    assert isinstance(caught.value, ValueError)
    return caught.value.field


def without(name: str, *path: str) -> dict:
    event = sample(name)
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def test_event_error_is_a_value_error_naming_the_field():
    err = EventError("detail.state", "is missing")
    assert isinstance(err, ValueError) and str(err) == "detail.state is missing"


@pytest.mark.parametrize("raw, field", [
    ([1, 2], "event"),
    ("text", "event"),
    (without("eventbridge_guardduty", "id"), "id"),
    (without("eventbridge_guardduty", "time"), "time"),
    (without("eventbridge_guardduty", "detail"), "detail"),
    (without("eventbridge_guardduty", "detail", "severity"), "detail.severity"),
    (without("eventbridge_cloudwatch_alarm", "detail", "state"), "detail.state"),
    (without("eventbridge_cloudwatch_alarm", "detail", "state", "value"), "detail.state.value"),
    (without("eventbridge_codepipeline_stage", "detail", "execution-id"), "detail.execution-id"),
    (without("eventbridge_codedeploy_deployment", "detail", "deploymentId"), "detail.deploymentId"),
    (without("eventbridge_health", "detail", "eventArn"), "detail.eventArn"),
    (without("sns_cloudwatch_alarm", "MessageId"), "MessageId"),
    (without("sns_cloudwatch_alarm", "Timestamp"), "Timestamp"),
])
def test_missing_fields_are_named(raw, field):
    assert field_of(raw) == field


@pytest.mark.parametrize("mutate, field", [
    (lambda e: e["detail"].update(severity="very"), "detail.severity"),
    (lambda e: e["detail"].update(severity=True), "detail.severity"),
    (lambda e: e["detail"].update(resource=[]), "detail.resource"),
    (lambda e: e["detail"]["resource"]["instanceDetails"].update(tags=[{"value": "x"}]),
     "detail.resource.instanceDetails.tags[0].key"),
    (lambda e: e.update(time="yesterday"), "time"),
    (lambda e: e.update(resources="arn"), "resources"),
    (lambda e: e.update(detail="{}"), "detail"),
])
def test_wrong_types_are_named(mutate, field):
    event = sample("eventbridge_guardduty")
    mutate(event)
    assert field_of(event) == field


def test_unknown_states_say_what_is_accepted():
    event = sample("eventbridge_codedeploy_deployment")
    event["detail"]["state"] = "EXPLODED"
    with pytest.raises(EventError, match="detail.state must be one of START, READY, SUCCESS, FAILURE, STOP"):
        normalise(event, INDEX)
    message = sns_message("sns_cloudwatch_alarm")
    message["NewStateValue"] = "MAYBE"
    assert field_of(with_message("sns_cloudwatch_alarm", message)) == "NewStateValue"


def test_security_hub_event_without_findings_is_malformed():
    event = sample("eventbridge_securityhub")
    event["detail"]["findings"] = []
    assert field_of(event) == "detail.findings"


def test_ecs_event_must_name_its_service():
    event = sample("eventbridge_ecs_deployment")
    event["resources"] = ["arn:aws:ecs:eu-west-1:222222222222:cluster/prod-cluster"]
    assert field_of(event) == "resources"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
# Keys the normalisers look at, so random objects reach deep into them.
interesting_keys = st.sampled_from(["Type", "Message", "MessageId", "Timestamp", "detail-type", "source", "detail",
                                    "id", "time", "account", "region", "resources", "AlarmName", "NewStateValue",
                                    "StateChangeTime", "Subject", "anomalyId", "budgetName"])


def _only_event_errors(raw: Any) -> None:
    try:
        result = normalise(raw, INDEX)
    except EventError:
        return
    assert isinstance(result, list) and result


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_never_raises_anything_but_event_error(raw):
    _only_event_errors(raw)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(interesting_keys, json_values, max_size=8))
def test_arbitrary_objects_with_known_keys_never_raise_anything_but_event_error(raw):
    _only_event_errors(raw)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indexes)."""
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append(prefix + (key,))
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append(prefix + (index,))
            found += _paths(child, prefix + (index,))
    return found


def _replace(value: Any, path: tuple, new: Any, delete: bool) -> Any:
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


@st.composite
def mutated_samples(draw) -> Any:
    """A real sample with one value deep inside replaced by random JSON or removed; SNS messages
    are mutated inside their JSON Message too."""
    name = draw(st.sampled_from(NAMES))
    event = sample(name)
    inner = None
    if "Message" in event and event["Message"].startswith("{") and draw(st.booleans()):
        inner = json.loads(event["Message"])
    target = inner if inner is not None else event
    path = draw(st.sampled_from(_paths(target)))
    _replace(target, path, draw(json_values), draw(st.booleans()))
    if inner is not None:
        event["Message"] = json.dumps(inner)
    return event


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_mutated_real_events_never_raise_anything_but_event_error(raw):
    _only_event_errors(raw)


@pytest.mark.parametrize("value", [10**400, float("inf"), "nan", "1e999"])
def test_numbers_that_are_not_finite_are_refused(value):
    event = sample("eventbridge_guardduty")
    event["detail"]["severity"] = value
    assert field_of(event) == "detail.severity"


def test_an_integer_too_long_to_print_is_refused_not_a_crash():
    event = sample("eventbridge_codepipeline_stage")
    event["detail"]["execution-id"] = 10**5000
    assert field_of(event) == "detail.execution-id"
