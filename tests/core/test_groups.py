"""Roles granted through chat groups (Slack user groups), looked up through the Directory port."""

from __future__ import annotations

from dataclasses import replace

from opsgate.domain.request import State
from tests.core.conftest import Harness
from tests.factories import catalog


class StaticDirectory:
    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups
        self.calls = 0

    def group_ids(self, platform: str, user_id: str) -> frozenset[str]:
        self.calls += 1
        return frozenset(self.groups.get(user_id, set()))


def _catalog_with_group():
    cat = catalog()
    roles = dict(cat.roles)
    roles["sre"] = replace(roles["sre"], groups={"slack": ("S0SRE",)})
    return type(cat)(cat.environments, cat.people, roles, cat.commands)


def _harness(url, directory) -> Harness:
    h = Harness(url, _catalog_with_group())
    h.dispatcher.rt.directory = directory
    return h


def test_group_member_not_in_people_gets_the_groups_role(sqlite_url):
    h = _harness(sqlite_url, StaticDirectory({"U0ZOE": {"S0SRE"}}))
    reply = h.say("U0ZOE", "whoami", platform="slack")
    assert "slack:U0ZOE" in reply.text and "sre" in reply.text
    rid = h.say("alice", "restart web prod", platform="console").request_id
    assert h.say("U0ZOE", f"approve {rid}", platform="slack").ok
    assert h.request(rid).state is State.SUCCEEDED


def test_catalog_person_gains_roles_from_groups(sqlite_url):
    h = _harness(sqlite_url, StaticDirectory({"U0ALICE": {"S0SRE"}}))
    assert "sre" in h.say("U0ALICE", "whoami", platform="slack").text


def test_someone_in_no_granting_group_stays_unknown(sqlite_url):
    h = _harness(sqlite_url, StaticDirectory({"U0EVE": {"S0OTHER"}}))
    assert "not in the catalog" in h.say("U0EVE", "whoami", platform="slack").text


def test_directory_is_not_asked_when_no_role_uses_groups(sqlite_url):
    directory = StaticDirectory({})
    h = Harness(sqlite_url)
    h.dispatcher.rt.directory = directory
    h.say("U0ALICE", "whoami", platform="slack")
    assert directory.calls == 0
