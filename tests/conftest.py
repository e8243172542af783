"""Shared fixtures: database URLs for every store test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

POSTGRES_ENV = "OPSGATE_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'opsgate.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    import sqlalchemy as sa

    name = "opsgate_t_" + secrets.token_hex(6)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Every store test runs on both databases."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str):
    """An upgraded store on each database (store tests have their own, in tests/adapters/store)."""
    from opsgate.adapters.store import open_store

    store = open_store(database_url)
    yield store
    store.close()


# -- AWS emulator ---------------------------------------------------------------------------------

MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


def _post_json(url: str, body: dict | None = None) -> None:
    import json
    import urllib.request

    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 (real HTTP, real boto3), shared by the session."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    os.environ["MOTO_PORT"] = str(port)  # the Step Functions interpreter calls back into the server
    url = f"http://127.0.0.1:{port}"
    _post_json(f"{url}/moto-api/config", MOTO_CONFIG)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def aws_endpoint(moto_endpoint) -> str:
    """The moto server, emptied before the test."""
    _post_json(f"{moto_endpoint}/moto-api/reset")
    _post_json(f"{moto_endpoint}/moto-api/config", MOTO_CONFIG)
    return moto_endpoint


@pytest.fixture
def api():
    """A local HTTP server standing in for Slack's Web API; it records every call."""
    from opsgate.adapters.chat.slack.testing import LocalSlackApi

    api = LocalSlackApi().start()
    yield api
    api.stop()
