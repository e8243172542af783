"""Two replicas (separate engines and dispatchers) on one PostgreSQL database."""

from __future__ import annotations

import threading

from tests.core.conftest import Harness

PR = "https://github.com/acme/web/pull/12"


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_replicas_approving_the_same_request_run_it_once(postgres_url):
    one, two = Harness(postgres_url), Harness(postgres_url)
    for _ in range(5):
        rid = one.say("alice", "restart web prod").request_id
        replies = _together(lambda: one.say("bob", f"approve {rid}"), lambda: two.say("carol", f"approve {rid}"))
        assert sum(r.ok for r in replies) == 1, [r.text for r in replies]
        events = [a["event"] for a in one.audit() if a.get("request_id") == rid]
        assert events.count("approval.granted") == 1
        assert events.count("execution.started") == 1 and events.count("execution.succeeded") == 1
    assert one.store.verify_audit().ok


def test_same_click_delivered_to_two_replicas_runs_once(postgres_url):
    one, two = Harness(postgres_url), Harness(postgres_url)
    rid = one.say("alice", "restart web prod").request_id
    replies = _together(*(lambda h=h: h.say("carol", f"approve {rid}", key="click-1") for h in (one, two, one, two, one)))
    assert len(replies) == 5
    events = [a["event"] for a in one.audit() if a.get("request_id") == rid]
    assert events.count("approval.granted") == 1 and events.count("execution.succeeded") == 1
