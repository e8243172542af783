"""Deployments, the environment summary and the numbers in Slack: signed slash commands and button
clicks to opsgate's ASGI app on 127.0.0.1, the example catalog over the AWS sandbox, answers seen
at the local Slack Web API."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.slack_world import OPS, SlackWorld, buttons_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CAROL, DAVE, ERIN, ALICE = "U03CAROL", "U04DAVE", "U05ERIN", "U01ALICE"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slack-deployments")
    shutil.copytree(EXAMPLES / "runbooks", tmp / "runbooks")  # the catalog names them relative to itself
    world = SlackWorld(tmp, f"sqlite:///{tmp / 'opsgate.db'}", catalog=(EXAMPLES / "opsgate.yaml").read_text(),
                       extra_env={"OPSGATE_SANDBOX": "1"})
    yield world
    world.close()


def answered(world: SlackWorld, needle: str) -> dict:
    """The message (posted or ephemeral) whose text holds `needle`, once it has arrived."""
    def found():
        calls = world.api.calls_to("chat.postMessage") + world.api.calls_to("response_url")
        return next((c.args for c in calls if needle in c.args.get("text", "")), None)
    return world.api.wait_for(found)


def test_deploy_history_answers_in_the_channel_with_a_rollback_button(world):
    assert world.command(CAROL, "deploy history web prod last=4").status_code == 200
    message = answered(world, "deploy history env=prod last=4")
    assert message["channel"] == OPS
    text = str(message["blocks"])
    assert "newest first (4 of 7 found)" in text and "waits for approval at Approve/ProdApproval" in text
    assert "by alice" in text and "smoke tests failed in staging" in text
    assert buttons_of(message)["Roll back web (prod)"]["value"] == "service rollback service=web env=prod"


def test_clicking_rollback_asks_for_an_approval_like_typing_it(world):
    world.command(CAROL, "deploy history web prod")
    message = answered(world, "deploy history env=prod last=10")
    [post] = [c for c in world.api.calls_to("chat.postMessage") if c.args is message]
    assert world.click(CAROL, buttons_of(message)["Roll back web (prod)"], post.answer["ts"]).status_code == 200
    approval = answered(world, "Approval needed: `r-")
    assert "service rollback service=web env=prod" in approval["text"]
    assert set(buttons_of(approval)) == {"Approve", "Deny"}  # prod is protected: the click alone runs nothing
    clicked = [r for r in world.audit() if r["event"] == "request.decided" and r["command"] == "service rollback"]
    assert clicked[-1]["actor"]["id"] == CAROL and clicked[-1]["outcome"] == "awaiting_approval"


def test_env_prod_summarises_alarms_deployments_incidents_holds_and_cost(world):
    world.command(ERIN, "env prod")
    message = answered(world, "env env=prod")
    text = str(message["blocks"])
    for part in ("2 alarms in ALARM", "Deployments in flight:", "Open incidents:", "Locks and freezes:",
                 "Month to date:", "Budget prod-monthly (monthly)"):
        assert part in text, part


def test_stats_answer_people_with_the_permission_and_refuse_the_others(world):
    world.command(DAVE, "stats 7d")
    numbers = answered(world, "opsgate numbers")
    assert "Requests:" in numbers["text"] and "nearest-rank" in numbers["text"]
    world.command(ALICE, "stats")
    refused = answered(world, "Denied by rule `rbac.permission`: `stats` needs the `stats` permission")
    assert refused["response_type"] == "ephemeral"
    assert any(r["event"] == "request.refused" and r["command"] == "stats" for r in world.audit())
