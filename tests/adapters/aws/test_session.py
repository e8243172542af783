"""SessionFactory against moto's STS: AssumeRole per (environment, request, person), cached."""

from __future__ import annotations

import time

import boto3
import pytest

from opsgate.adapters.aws.iam_policy import CallRecorder
from opsgate.adapters.aws.session import SessionFactory, sts_name
from opsgate.errors import AutomationError

ROLE = "arn:aws:iam::123456789012:role/opsgate-dev"
MARGIN_S = 300


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def recorder():
    return CallRecorder()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def factory(aws_endpoint, recorder, clock):
    base = boto3.session.Session()
    recorder.attach(base)  # the STS client is made from the base session
    return SessionFactory(endpoint_url=aws_endpoint, base_session=base, refresh_margin_s=MARGIN_S,
                          duration_s=3600, now=clock)


@pytest.fixture
def prod(make_environment):
    return make_environment("prod", role_arn=ROLE)


def assume_calls(recorder):
    return [call for call in recorder.calls if call.action == "sts:AssumeRole"]


def test_assume_role_happens_once_for_many_clients_of_one_request(factory, recorder, prod, make_ctx):
    ctx = make_ctx(prod, request_id="r-once0001", person_id="alice")
    for _ in range(3):
        factory.client("sqs", prod, ctx).list_queues()
        factory.clients(prod, ctx).client("stepfunctions").list_state_machines()
    [call] = assume_calls(recorder)
    assert call.params["RoleArn"] == ROLE
    assert call.params["RoleSessionName"] == "opsgate-r-once0001"
    assert call.params["SourceIdentity"] == "alice"
    assert call.params["DurationSeconds"] == 3600


def test_each_request_person_and_environment_gets_its_own_session(factory, recorder, prod, make_environment, make_ctx):
    staging = make_environment("staging", role_arn="arn:aws:iam::123456789012:role/opsgate-staging")
    factory.client("sqs", prod, make_ctx(prod, request_id="r-a", person_id="alice"))
    factory.client("sqs", prod, make_ctx(prod, request_id="r-b", person_id="alice"))
    factory.client("sqs", prod, make_ctx(prod, request_id="r-b", person_id="bob"))
    factory.client("sqs", staging, make_ctx(staging, request_id="r-b", person_id="bob"))
    factory.client("sqs", prod, make_ctx(prod, request_id="r-a", person_id="alice"))  # cached
    assert [(c.params["RoleArn"].rsplit("/", 1)[1], c.params["RoleSessionName"], c.params["SourceIdentity"])
            for c in assume_calls(recorder)] == [
        ("opsgate-dev", "opsgate-r-a", "alice"), ("opsgate-dev", "opsgate-r-b", "alice"),
        ("opsgate-dev", "opsgate-r-b", "bob"), ("opsgate-staging", "opsgate-r-b", "bob")]


def test_credentials_are_refreshed_when_expiry_is_within_the_margin(factory, recorder, clock, prod, make_ctx):
    ctx = make_ctx(prod)
    factory.client("sqs", prod, ctx)
    clock.now += 3600 - MARGIN_S - 60  # a minute before the margin: still cached
    factory.client("sqs", prod, ctx)
    assert len(assume_calls(recorder)) == 1
    clock.now += 120  # inside the margin
    client = factory.client("sqs", prod, ctx)
    assert len(assume_calls(recorder)) == 2
    client.list_queues()  # the fresh credentials work


def test_without_a_role_the_default_chain_is_used_and_sts_is_not_called(factory, recorder, make_environment,
                                                                        make_ctx):
    dev = make_environment("dev")
    first = factory.client("sts", dev, make_ctx(dev, request_id="r-1"))
    identity = first.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:user/moto"  # moto's default-chain user
    second = factory.client("sts", dev, make_ctx(dev, request_id="r-2", person_id="bob"))
    assert second is first  # the same credentials for every request: one client, no growing cache
    assert assume_calls(recorder) == []


def test_the_assumed_identity_carries_the_request_in_its_session_name(factory, prod, make_ctx):
    clients = factory.clients(prod, make_ctx(prod, request_id="r-who00001"))
    identity = clients.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/opsgate-dev/opsgate-r-who00001"


def test_a_region_override_gives_a_client_in_that_region(factory, recorder, prod, make_ctx):
    clients = factory.clients(prod, make_ctx(prod))
    global_ce = clients.client("ce", region="us-east-1")
    assert global_ce.meta.region_name == "us-east-1"
    assert clients.client("ce").meta.region_name == "eu-west-1"
    assert clients.client("ce", region="us-east-1") is global_ce
    assert len(assume_calls(recorder)) == 1  # one session, clients per region


def test_names_sts_refuses_are_made_acceptable():
    assert sts_name("opsgate-r-abc") == "opsgate-r-abc"
    assert sts_name("Zoë Smith/ops") == "Zo--Smith-ops"
    assert sts_name("x") == "x-"  # at least two characters
    assert len(sts_name("opsgate-" + "r" * 100)) == 64


def test_a_person_id_with_other_characters_still_reaches_sts(factory, recorder, prod, make_ctx):
    factory.client("sqs", prod, make_ctx(prod, person_id="U0ALICE:slack"))
    assert assume_calls(recorder)[0].params["SourceIdentity"] == "U0ALICE-slack"


def test_a_refused_assume_role_is_an_automation_error_naming_the_role(hooked_sessions, canned_answer, prod, make_ctx):
    denied = canned_answer("before-send.*.AssumeRole", 403, b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User is not authorized to perform: sts:AssumeRole on resource: %s</Message></Error>
  <RequestId>req-denied-1</RequestId></ErrorResponse>""" % ROLE.encode())
    factory = hooked_sessions(denied)
    with pytest.raises(AutomationError) as caught:
        factory.client("sqs", prod, make_ctx(prod))
    assert caught.value.message.startswith(f"AWS denied sts:AssumeRole on {ROLE} to role {ROLE}: ")
    assert caught.value.correlation == {"aws_request_id": "req-denied-1"}
