"""Fixtures for the AWS adapter tests: environments, run contexts and clients against moto.

Generic on purpose (every target's tests use them): `make_environment`, `make_ctx`, `clients_for`,
`moto_queue` (moto's result queues), `make_function` (a Lambda function), and for tests that watch
or answer botocore calls: `hooked_sessions` (a SessionFactory passing every client to a hook) and
`canned_answer` (a hook that answers one operation with a fixed AWS response).
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from opsgate.adapters.aws.session import EnvironmentClients, SessionFactory
from opsgate.domain.catalog import Environment
from opsgate.ports import RunContext

ACCOUNT = "123456789012"  # moto's default account: resources made with plain clients land here
REGION = "eu-west-1"


@pytest.fixture
def make_environment() -> Callable[..., Environment]:
    def make(name: str = "dev", *, account: str = ACCOUNT, region: str = REGION, role_arn: str | None = None,
             protected: bool = False) -> Environment:
        return Environment(name, account, region, protected=protected, role_arn=role_arn)

    return make


@pytest.fixture
def make_ctx() -> Callable[..., RunContext]:
    def make(environment: Environment | None, *, request_id: str = "r-test0001", person_id: str = "alice",
             dry_run: bool = False) -> RunContext:
        return RunContext(request_id=request_id, person_id=person_id, environment=environment, dry_run=dry_run)

    return make


@pytest.fixture
def sessions(aws_endpoint) -> SessionFactory:
    """A SessionFactory on moto; one retry at most, so error paths stay fast."""
    return SessionFactory(endpoint_url=aws_endpoint, max_attempts=2)


@pytest.fixture
def clients_for(sessions, make_ctx) -> Callable[..., EnvironmentClients]:
    """`clients_for(env)` → the clients a target gets for that environment (and request)."""

    def build(environment: Environment, ctx: RunContext | None = None) -> EnvironmentClients:
        return sessions.clients(environment, ctx or make_ctx(environment))

    return build


@pytest.fixture
def moto_queue(aws_endpoint) -> Callable[..., None]:
    """`moto_queue("lambda-simple/response", results, account_id=..., region=...)`: results moto
    returns for the next calls (see FACTS.md)."""

    def post(path: str, results: list[Any], **where: str) -> None:
        body = json.dumps({"results": results, **where}).encode()
        request = urllib.request.Request(f"{aws_endpoint}/moto-api/static/{path}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201

    return post


@pytest.fixture
def moto_config(aws_endpoint) -> Callable[[dict[str, Any]], None]:
    """`moto_config({...})` changes moto's configuration for this test (aws_endpoint resets it)."""

    def post(config: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{aws_endpoint}/moto-api/config", data=json.dumps(config).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    return post


class HookedSessionFactory(SessionFactory):
    """A SessionFactory that hands its base session and every client it builds to `attach`, so a
    test can register botocore event handlers (a CallRecorder, a canned answer) on all of them."""

    def __init__(self, attach: Callable[[Any], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attach = attach
        attach(self.base)  # clients made from the base session (STS, default chain) copy its handlers

    def client(self, service: str, environment: Environment, ctx: RunContext, *, region: str | None = None) -> Any:
        client = super().client(service, environment, ctx, region=region)
        self.attach(client)  # handlers register with unique ids: attaching again changes nothing
        return client


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any):
        yield self.data


def _canned_answer(event: str, status: int, body: dict[str, Any] | bytes) -> Callable[[Any], None]:
    """An `attach` function: calls matching `event` (e.g. "before-send.*.GetCostForecast") get this
    answer instead of going to the server; botocore still parses it (errors included). A dict is
    sent as JSON (JSON protocols), bytes as XML (query protocols such as STS)."""
    content_type = "text/xml" if isinstance(body, bytes) else "application/x-amz-json-1.1"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = {"Content-Type": content_type, "x-amzn-RequestId": "canned-request"}
        return AWSResponse(request.url, status, headers, _Body(data))

    def attach(session_or_client: Any) -> None:
        events = getattr(session_or_client, "events", None) or session_or_client.meta.events
        events.register(event, answer, unique_id=f"canned-{event}-{id(answer)}")

    return attach


@pytest.fixture
def canned_answer() -> Callable[[str, int, dict[str, Any] | bytes], Callable[[Any], None]]:
    return _canned_answer


@pytest.fixture
def hooked_sessions(aws_endpoint) -> Callable[..., HookedSessionFactory]:
    """`hooked_sessions(attach, **SessionFactory options)` on moto."""

    def build(attach: Callable[[Any], None], **kwargs: Any) -> HookedSessionFactory:
        kwargs.setdefault("max_attempts", 2)
        return HookedSessionFactory(attach, endpoint_url=aws_endpoint, **kwargs)

    return build


@pytest.fixture
def make_function() -> Callable[[EnvironmentClients, str], str]:
    """`make_function(clients, name)` → the ARN of a new function in the clients' account."""
    return _create_function


def _zipped_handler() -> bytes:
    """A real deployment package (moto without Docker stores it and never runs it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _lambda_role(clients: EnvironmentClients) -> str:
    """An IAM role Lambda can assume (moto checks it exists in the account)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    iam = clients.client("iam")
    try:
        return iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _create_function(clients: EnvironmentClients, name: str) -> str:
    answer = clients.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=_lambda_role(clients), Handler="handler.handler",
        Code={"ZipFile": _zipped_handler()})
    return answer["FunctionArn"]
