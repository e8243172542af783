"""`/ops stats [period]` through the dispatcher: the numbers of opsgate's own records, for people
holding the `stats` permission, over a period that must make sense."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opsgate.domain.catalog import Role
from tests.core.conftest import Harness
from tests.factories import catalog

PR = "https://github.com/acme/web/pull/7"


def with_stats_for_sre():
    base = catalog()
    sre = base.roles["sre"]
    roles = {**base.roles, "sre": Role(sre.name, sre.members, sre.permissions | {"stats"})}
    return replace(base, roles=roles)


@pytest.fixture
def world(database_url) -> Harness:
    return Harness(database_url, with_stats_for_sre())


def test_stats_count_use_refusals_and_time_to_approve(world):
    rid = world.say("alice", f"rollback web prod --link {PR}").request_id  # a developer may not roll back prod
    assert world.request(rid).state.value == "denied"
    waiting = world.say("bob", f"rollback web prod --link {PR}").request_id
    world.clock.advance(minutes=12)
    assert world.say("carol", f"approve {waiting}").ok
    assert world.say("alice", "deploy status web dev").ok
    world.say("alice", "rolback web dev")  # a typo: refused by the parser

    reply = world.say("carol", "stats 7d")
    assert reply.ok, reply.text
    assert "Requests: 3" in reply.text
    assert "by command: rollback 2, deploy status 1" in reply.text
    assert "by person: alice 2, bob 1" in reply.text
    assert "Refusals: 2 — by rule: parse 1, rbac.argument 1" in reply.text
    assert "Time to approve: p50 12m, p90 12m (1)" in reply.text
    assert "nearest-rank" in reply.text


def test_the_period_bounds_what_is_counted(world):
    world.say("alice", "deploy status web dev")
    world.clock.advance(days=2)
    assert "Requests: 0" in world.say("carol", "stats 1d").text
    assert "Requests: 1" in world.say("carol", "stats 3d").text


def test_stats_need_the_stats_permission(world):
    reply = world.say("alice", "stats")
    assert not reply.ok and "stats" in reply.text
    assert world.audit()[-1]["event"] == "request.refused"


@pytest.mark.parametrize("period, problem", [("30s", "from 1h to 366d"), ("400d", "from 1h to 366d"),
                                             ("soon", "must be text matching")])
def test_a_period_that_makes_no_sense_is_refused_with_what_is_allowed(world, period, problem):
    reply = world.say("carol", f"stats {period}")
    assert not reply.ok and problem in reply.text
