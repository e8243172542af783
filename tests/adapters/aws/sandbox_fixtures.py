"""Fixtures for tests on the sandbox: opsgate's moto extensions installed, clients acting in prod.

The clients come from the product's own SessionFactory, so every test also assumes prod's role
(`opsgate-prod`) the way opsgate does. Import what a test module uses:
`from tests.adapters.aws.sandbox_fixtures import prod_clients, run_ctx, drive`. `actions_called`
and `granted_actions` show that a target's `permissions` name every call it makes.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsgate.adapters.aws.iam_policy import CallRecorder
from opsgate.adapters.aws.session import EnvironmentClients, SessionFactory
from opsgate.adapters.aws.target import Target
from opsgate.domain.catalog import Environment
from opsgate.ports import RunContext, RunResult
from opsgate.sandbox.moto_extensions import install
from opsgate.sandbox.seed import REGION, account

PROD_ACCOUNT = account("prod")
PROD = Environment("prod", PROD_ACCOUNT.account_id, REGION, protected=True, role_arn=PROD_ACCOUNT.opsgate_role_arn)
POLL_LIMIT = 10  # the sandbox finishes any work in a few reads; more means it never would


@pytest.fixture
def sandbox_endpoint(aws_endpoint: str) -> str:
    """The test's emptied moto server, with opsgate's extensions (installing again changes nothing)."""
    install()
    return aws_endpoint


@pytest.fixture
def run_ctx() -> RunContext:
    return RunContext(request_id="r-0042", person_id="alice", environment=PROD)


@pytest.fixture
def prod_clients(sandbox_endpoint: str, run_ctx: RunContext) -> EnvironmentClients:
    return SessionFactory(endpoint_url=sandbox_endpoint, max_attempts=2).clients(PROD, run_ctx)


def drive(target: Target, clients: EnvironmentClients, settings: dict[str, Any], ctx: RunContext) -> list[RunResult]:
    """`run`, then `poll` from each checkpoint until the work is done; every result, in order."""
    results = [target.run(clients, settings, ctx)]
    while results[-1].pending:
        assert len(results) <= POLL_LIMIT, f"still pending after {POLL_LIMIT} polls: {results[-1].summary}"
        results.append(target.poll(clients, settings, ctx, results[-1].checkpoint))
    return results


def progress(results: list[RunResult]) -> list[str]:
    return [line for result in results for line in result.progress]


def actions_called(target: Target, clients: EnvironmentClients, settings: dict[str, Any], ctx: RunContext,
                   *services: str) -> set[str]:
    """The IAM actions of every call `drive` makes through these services' clients."""
    recorder = CallRecorder()
    for service in services:
        recorder.attach(clients.client(service))
    drive(target, clients, settings, ctx)
    return recorder.actions()


def granted_actions(target: Target, settings: dict[str, Any]) -> set[str]:
    return {permission.action for permission in target.permissions(settings, PROD)}
