"""Block Kit approvals over real HTTP: one message per request that changes in place, buttons,
and the modals for a deny reason, a typed confirmation and a missing link."""

from __future__ import annotations

import json

import pytest

from tests.e2e.slack_world import OPS, SlackWorld, buttons_of


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url)
    yield world
    world.close()


def ask_for_restart(world: SlackWorld) -> tuple[str, dict, str]:
    """Alice asks to restart web in prod (protected): (request id, approval message, its ts)."""
    world.command("U0ALICE", "restart web prod")
    world.settle()
    [message] = world.api.calls_to("chat.postMessage")
    request_id = message.args["text"].split("`")[1]
    return request_id, message.args, message.answer["ts"]


def updates(world: SlackWorld) -> list[dict]:
    return [c.args for c in world.api.calls_to("chat.update")]


def test_an_approval_request_is_one_message_with_approve_and_deny(world):
    request_id, message, _ = ask_for_restart(world)
    assert message["channel"] == OPS and "Approval needed" in message["text"]
    assert {label: b["value"] for label, b in buttons_of(message).items()} == {
        "Approve": f"approve {request_id}", "Deny": f"deny {request_id}"}
    [answer] = world.responses(1)  # the requester is told, only them
    assert answer["response_type"] == "ephemeral" and f"`{request_id}` is waiting" in answer["text"]


def test_approving_updates_the_message_in_place_and_puts_the_result_in_its_thread(world):
    request_id, message, ts = ask_for_restart(world)
    assert world.click("U0CAROL", buttons_of(message)["Approve"], ts).status_code == 200
    world.settle()
    approved, succeeded = updates(world)
    assert (approved["channel"], approved["ts"]) == (succeeded["channel"], succeeded["ts"]) == (OPS, ts)
    assert "Carol Example approved" in approved["text"] and "Running" in approved["text"]
    assert "Succeeded" in succeeded["text"] and buttons_of(succeeded) == {}  # no more buttons
    assert f"/requests/{request_id}|Request page>" in str(succeeded["blocks"])
    result = world.api.calls_to("chat.postMessage")[-1].args
    assert result["thread_ts"] == ts and "Restarted web in prod" in result["text"]
    assert world.request(request_id).state.value == "succeeded"


def test_a_click_by_someone_without_the_approver_role_is_refused_to_them_and_audited(world):
    request_id, message, ts = ask_for_restart(world)
    world.click("U0BOB", buttons_of(message)["Approve"], ts)  # bob is a developer: no approve
    world.settle()
    refusal = world.responses(2)[-1]
    assert refusal["response_type"] == "ephemeral" and f"Cannot approve `{request_id}`" in refusal["text"]
    [audited] = [r for r in world.audit() if r["event"] == "approval.refused"]
    assert audited["rule"] == "approval.role" and audited["actor"]["id"] == "U0BOB"
    assert world.request(request_id).state.value == "awaiting_approval" and updates(world) == []


def test_approving_ones_own_request_is_refused_and_audited(world):
    request_id, message, ts = ask_for_restart(world)
    world.click("U0ALICE", buttons_of(message)["Approve"], ts)
    world.settle()
    assert "nobody approves their own request" in world.responses(2)[-1]["text"]
    [audited] = [r for r in world.audit() if r["event"] == "approval.refused"]
    assert audited["rule"] == "approval.self"
    assert world.request(request_id).state.value == "awaiting_approval"


def test_a_member_of_a_slack_user_group_approves_through_the_groups_role(world):
    world.api.usergroups = [{"id": "S0ONCALL", "handle": "oncall", "users": ["U0DAVE"]}]
    request_id, message, ts = ask_for_restart(world)
    world.click("U0DAVE", buttons_of(message)["Approve"], ts)  # not in `people`: known by the group
    world.settle()
    assert world.request(request_id).state.value == "succeeded"
    [granted] = [r for r in world.audit() if r["event"] == "approval.granted"]
    assert granted["actor"]["id"] == "U0DAVE"
    assert len(world.api.calls_to("usergroups.list")) == 1  # cached for the TTL


def test_deny_asks_for_a_reason_in_a_modal_and_the_message_shows_it(world):
    request_id, message, ts = ask_for_restart(world)
    world.click("U0CAROL", buttons_of(message)["Deny"], ts)
    [opened] = world.api.wait_for(lambda: world.api.calls_to("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == "opsgate.deny" and opened.args["trigger_id"].endswith(".click")
    assert world.request(request_id).state.value == "awaiting_approval"  # nothing until submitted
    assert world.submit("U0CAROL", view, "it's Friday; \"wait\" for Monday").status_code == 200
    world.settle()
    assert world.request(request_id).state.value == "denied"
    [denied] = updates(world)
    assert denied["ts"] == ts and "it's Friday; \"wait\" for Monday" in denied["text"] and buttons_of(denied) == {}
    [audited] = [r for r in world.audit() if r["event"] == "request.denied"]
    assert audited["reason"] == "it's Friday; \"wait\" for Monday" and audited["actor"]["id"] == "U0CAROL"
    [told] = [c.args for c in world.api.calls_to("chat.postEphemeral")]  # no response_url in a modal
    assert told["user"] == "U0CAROL" and f"Denied `{request_id}`" in told["text"]


def test_a_destructive_command_opens_a_modal_asking_for_the_environment_name(world):
    world.command("U0ALICE", "cache flush dev")
    [opened] = world.api.wait_for(lambda: world.api.calls_to("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == "opsgate.confirm" and "Type dev to go ahead" in json.dumps(view)
    request_id = json.loads(view["private_metadata"])["id"]
    assert world.request(request_id).state.value == "awaiting_confirmation"

    wrong = world.submit("U0ALICE", view, "prod")
    assert wrong.status_code == 200 and wrong.json() == {"response_action": "errors",
                                                        "errors": {"answer": "Type exactly dev"}}
    assert world.request(request_id).state.value == "awaiting_confirmation"

    assert world.submit("U0ALICE", view, "dev", view_id="V0002").status_code == 200
    world.settle()
    assert world.request(request_id).state.value == "succeeded"
    [result] = [c.args for c in world.api.calls_to("chat.postMessage")]
    assert "Flushed the cache in dev" in result["text"]


def test_a_missing_required_link_is_asked_for_and_the_line_runs_again_with_it(world):
    world.command("U0ALICE", "rollback web dev")
    [opened] = world.api.wait_for(lambda: world.api.calls_to("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == "opsgate.link" and "needs --link" in json.dumps(view)
    world.submit("U0ALICE", view, "https://github.com/acme/web/pull/7")
    world.settle()
    [result] = [c.args for c in world.api.calls_to("chat.postMessage")]
    assert "Rolled web back in dev" in result["text"]
    decided = [r for r in world.audit() if r["event"] == "request.decided"]
    assert [d["rule"] for d in decided] == ["link.required", "policy.allow"]
    assert decided[-1]["links"] == ["https://github.com/acme/web/pull/7"]


def test_when_slack_refuses_the_modal_the_person_gets_the_text_instead(world):
    world.api.fail_next("views.open", error="expired_trigger_id")
    world.command("U0ALICE", "cache flush dev")
    world.settle()
    [answer] = world.responses(1)
    assert answer["response_type"] == "ephemeral" and "/ops confirm r-" in answer["text"]
