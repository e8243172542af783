"""Request signatures and timestamps, checked on the raw body with Slack's algorithm."""

from __future__ import annotations

import pytest

from opsgate.adapters.chat.slack.endpoint import RefusalBudget
from opsgate.adapters.chat.slack.testing import signed_headers
from opsgate.adapters.chat.slack.verify import RequestGuard, claimed_ids

SECRET = "s3cr3t"
NOW = 1_700_000_000
BODY = b"team_id=T1&user_id=U0ALICE&text=help"


def headers(body: bytes = BODY, *, secret: str = SECRET, ts: int = NOW) -> dict[str, str]:
    return {k.lower(): v for k, v in signed_headers(secret, body, timestamp=ts).items()}


@pytest.fixture
def guard() -> RequestGuard:
    return RequestGuard(SECRET, now=lambda: NOW)


def test_a_correctly_signed_fresh_request_passes(guard):
    assert guard.refusal(BODY, headers()) is None


@pytest.mark.parametrize("ts", [NOW - 300, NOW + 300])
def test_five_minutes_either_way_is_still_fresh(guard, ts):
    assert guard.refusal(BODY, headers(ts=ts)) is None


@pytest.mark.parametrize(("ts", "word"), [(NOW - 301, "old"), (NOW + 301, "in the future")])
def test_an_older_or_future_timestamp_is_refused(guard, ts, word):
    refusal = guard.refusal(BODY, headers(ts=ts))
    assert refusal.status == 401 and f"301 s {word}" in refusal.reason


def test_another_secret_a_changed_body_or_no_headers_are_refused(guard):
    assert "does not match" in guard.refusal(BODY, headers(secret="other")).reason
    assert "does not match" in guard.refusal(BODY.replace(b"U0ALICE", b"U0CAROL"), headers()).reason
    assert "not a signed Slack request" in guard.refusal(BODY, {}).reason
    assert "not a Unix time" in guard.refusal(BODY, {**headers(), "x-slack-request-timestamp": "soon"}).reason


def test_a_signed_body_that_is_not_utf8_is_a_bad_request(guard):
    body = b"text=\xff\xfe"
    assert guard.refusal(body, headers(body)).status == 400


def test_claimed_ids_are_read_from_forms_interactions_and_events():
    assert claimed_ids(BODY) == {"claimed_user": "U0ALICE", "claimed_team": "T1"}
    assert claimed_ids(b'payload={"user":{"id":"U2"},"team":{"id":"T2"}}') == {"claimed_user": "U2", "claimed_team": "T2"}
    assert claimed_ids(b'{"team_id":"T3","event":{"user":"U3"}}') == {"claimed_user": "U3", "claimed_team": "T3"}
    assert claimed_ids(b"\x00garbage{") == {}


def test_refusals_are_audited_up_to_a_budget_per_minute():
    minute = [0.0]
    budget = RefusalBudget(per_minute=3, now=lambda: minute[0])
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]
    minute[0] = 60.0
    assert budget.take() is True
