"""Roles from Slack user groups: one read per TTL, stale answers used only for a while."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from opsgate.adapters.chat.slack.directory import SlackDirectory
from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.testing import FakeClock


@pytest.fixture
def api():
    api = LocalSlackApi().start()
    api.usergroups = [{"id": "S0ONCALL", "users": ["U1", "U2"]}, {"id": "S0DBA", "users": ["U2"]}]
    yield api
    api.stop()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def directory(api, clock):
    return SlackDirectory(WebClient(token="xoxb-test", base_url=api.base_url), clock, ttl_s=300, stale_s=600)


def test_a_users_groups_are_the_groups_listing_them(directory):
    assert directory.group_ids("slack", "U2") == {"S0ONCALL", "S0DBA"}
    assert directory.group_ids("slack", "U1") == {"S0ONCALL"}
    assert directory.group_ids("slack", "U9") == frozenset()
    assert directory.group_ids("console", "U1") == frozenset()


def test_groups_are_read_once_per_ttl(api, directory, clock):
    directory.group_ids("slack", "U1")
    clock.advance(299)
    api.usergroups = []
    assert directory.group_ids("slack", "U1") == {"S0ONCALL"}
    assert len(api.calls_to("usergroups.list")) == 1
    clock.advance(1)
    assert directory.group_ids("slack", "U1") == frozenset()  # removed from the group: seen after the TTL
    assert len(api.calls_to("usergroups.list")) == 2


def test_when_slack_does_not_answer_the_last_answer_holds_for_a_while_then_nothing(api, directory, clock):
    directory.group_ids("slack", "U1")
    for _ in range(40):
        api.fail_next("usergroups.list", status=500, error="internal_error")
    clock.advance(300)
    assert directory.group_ids("slack", "U1") == {"S0ONCALL"}  # stale but within stale_s
    clock.advance(601)
    assert directory.group_ids("slack", "U1") == frozenset()  # too old: deny rather than grant
