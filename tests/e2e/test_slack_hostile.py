"""Hostile requests to /slack/events: each refused with a clear 4xx before anything runs, and
audited where it matters (the audit record carries what the request claimed, marked as a claim)."""

from __future__ import annotations

import time

import pytest

from opsgate.adapters.chat.slack.testing import signed_headers
from tests.e2e.slack_world import SlackWorld


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url, extra_env={"OPSGATE_MAX_BODY_BYTES": "4096"})
    yield world
    world.close()


def refusals(world: SlackWorld) -> list[dict]:
    return [r for r in world.audit() if r["event"] == "delivery.refused"]


def nothing_ran(world: SlackWorld) -> bool:
    world.settle()
    return (world.api.calls == [] and
            not [r for r in world.audit() if r["event"] not in ("delivery.refused",)])


def test_a_forged_signature_is_refused_audited_and_runs_nothing(world):
    body = world.command_body("U0CAROL", "restart web prod")
    forged = signed_headers("not-the-secret", body)
    answer = world.http.post("/slack/events", content=body, headers=forged)
    assert answer.status_code == 401
    assert "signature does not match" in answer.json()["error"]
    [audited] = refusals(world)
    assert audited["rule"] == "delivery.verify" and "signature does not match" in audited["reason"]
    assert audited["correlation"]["claimed_user"] == "U0CAROL" and audited["actor"]["id"] == "unverified"
    assert nothing_ran(world)


def test_a_stale_timestamp_is_refused_as_a_possible_replay(world):
    body = world.command_body("U0ALICE", "deploy status web prod")
    answer = world.post_signed(body, timestamp=int(time.time()) - 301)  # correctly signed, too old
    assert answer.status_code == 401
    assert "older than 5 minutes are refused" in answer.json()["error"]
    assert "older than 5 minutes" in refusals(world)[0]["reason"]
    assert nothing_ran(world)


def test_a_user_id_swapped_in_a_signed_body_breaks_the_signature(world):
    body = world.command_body("U0ALICE", "restart web prod")
    headers = signed_headers("8f742231b10e8888abcd99yyyzzz85a5", body)
    swapped = body.replace(b"user_id=U0ALICE", b"user_id=U0CAROL")
    answer = world.http.post("/slack/events", content=swapped, headers=headers)
    assert answer.status_code == 401
    [audited] = refusals(world)
    assert audited["correlation"]["claimed_user"] == "U0CAROL"
    assert nothing_ran(world)


def test_an_unsigned_body_is_refused(world):
    body = world.command_body("U0CAROL", "restart web prod")
    answer = world.http.post("/slack/events", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 401 and "not a signed Slack request" in answer.json()["error"]
    assert len(refusals(world)) == 1
    assert nothing_ran(world)


def test_an_oversized_body_is_refused_before_it_is_read(world):
    body = world.command_body("U0ALICE", "deploy status web prod " + "x" * 5000)
    answer = world.post_signed(body)
    assert answer.status_code == 413 and "over 4096 bytes" in answer.json()["error"]
    assert nothing_ran(world)


def test_an_oversized_chunked_body_is_refused_too(world):
    def chunks():
        for _ in range(10):
            yield b"x" * 1024

    answer = world.http.post("/slack/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_replayed_signed_request_within_the_window_runs_once(world):
    body = world.command_body("U0ALICE", "deploy status web prod")
    first, replay = world.post_signed(body), world.post_signed(body)
    assert (first.status_code, replay.status_code) == (200, 200)
    world.settle()
    assert len([r for r in world.audit() if r["event"] == "execution.started"]) == 1
