"""`runbook <words>`: a declared catalog command (roles, audit) whose answer summarises the best
runbooks with links, and whose linked commands come back as buttons that still meet the policy."""

from __future__ import annotations

import pytest

from opsgate.domain.message import Button
from tests.core.scheduling_world import World


@pytest.fixture
def world(sqlite_url):
    world = World(sqlite_url, base_url="https://ops.example.com")
    yield world
    world.store.close()


def test_the_answer_shows_title_first_paragraph_matched_words_and_the_page_link(world):
    reply = world.say("alice", "runbook web 5xx errors")
    assert reply.ok and not reply.ephemeral
    first = reply.text.split("\n\n")[0].split("\n")
    assert first[0].startswith("✅ Succeeded: ") and "runbook words=\"web 5xx errors\"" in first[0]
    assert first[1:] == [
        "📖 *Web returns 5xx errors* — matched: web, 5xx, errors · owner team-platform",
        "The `web-5xx-high` alarm fires when more than 1% of requests through the public load balancer end in a 5xx "
        "for three minutes. Customers see error pages; checkout is usually the first to complain.",
        "https://ops.example.com/runbooks/web-5xx",
        "Commands: `alarms env=prod` · `deploy status web prod` · `rollback service=web env=prod`",
    ]
    assert reply.buttons[:3] == (Button("alarms env=prod", "alarms env=prod"),
                                 Button("deploy status web prod", "deploy status web prod"),
                                 Button("rollback service=web env=prod", "rollback service=web env=prod"))
    assert len(reply.buttons) == len({b.command for b in reply.buttons}) <= 6


def test_a_search_is_a_request_with_its_audit_records(world):
    reply = world.say("alice", "runbook api is slow")
    events = [(r["event"], r.get("command"), r["params"]) for r in world.audit() if r["request_id"] == reply.request_id]
    assert events[0] == ("request.decided", "runbook", {"words": "api is slow"})
    assert events[-1][0] == "execution.succeeded"


def test_clicking_a_runbook_button_runs_the_line_under_the_policy(world):
    reply = world.say("alice", "runbook web 5xx")
    rollback = next(b for b in reply.buttons if b.command.startswith("rollback"))
    clicked = world.say("alice", rollback.command)  # a button click is the same line
    assert "waiting for 1 approval" in clicked.text  # prod is protected: the approval gate still applies


def test_nothing_found_says_what_the_runbooks_cover(world):
    reply = world.say("alice", "runbook kubernetes")
    assert reply.ok and reply.buttons == ()
    assert "No runbook mentions kubernetes. The runbooks cover: " in reply.text


def test_only_stop_words_ask_for_something_to_look_for(world):
    reply = world.say("alice", "runbook what is the")
    assert not reply.ok and "Say what you are looking for" in reply.text


def test_the_command_needs_words_and_a_role(world):
    assert "`runbook` needs words" in world.say("alice", "runbook").text
    denied = world.say("erin", "runbook web 5xx")  # the auditor role may not search
    assert not denied.ok and "rbac.command" in denied.text


def test_explain_shows_a_search_is_a_read_that_runs_at_once(world):
    reply = world.say("alice", "explain runbook web 5xx")
    assert "Decision: *allow* by rule `read.allow`" in reply.text


def test_without_a_base_url_the_file_is_named(sqlite_url):
    world = World(sqlite_url)
    reply = world.say("alice", "runbook budget")
    assert "examples/runbooks/cost-spike.md)" in reply.text
    world.store.close()
