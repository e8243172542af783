"""`start_sandbox()` changes this process's environment only where it must, and `stop()` undoes it.

A module of its own: starting a sandbox empties moto's (process-wide) state, so it must not run
between the tests of another sandbox.
"""

from __future__ import annotations

import os

import boto3

from opsgate.sandbox import start_sandbox
from opsgate.sandbox.seed import ACCOUNTS


def test_credentials_are_set_only_when_missing_and_stop_puts_everything_back(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOTO_PORT", "5000")
    sandbox = start_sandbox()
    try:
        assert os.environ["MOTO_PORT"] == sandbox.endpoint_url.rsplit(":", 1)[1]
        assert os.environ["AWS_ACCESS_KEY_ID"] == sandbox.credentials.access_key_id  # boto3's default chain acts in dev
        fresh = boto3.session.Session()  # boto3's default session may hold credentials from before
        caller = fresh.client("sts", endpoint_url=sandbox.endpoint_url).get_caller_identity()
        assert caller["Account"] == ACCOUNTS[0].account_id
    finally:
        sandbox.stop()
    assert os.environ["MOTO_PORT"] == "5000"
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_DEFAULT_REGION" not in os.environ


def test_credentials_already_set_are_left_alone(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mine-too")
    sandbox = start_sandbox()
    try:
        assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]) == ("mine", "mine-too")
    finally:
        sandbox.stop()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"
