"""The scheduler lease as processes see it, with the fake clock: one leader, renewal, a stalled
leader that stops before another takes over, failover, release, and a database that fails."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from opsgate.adapters.store import open_store
from opsgate.core.leadership import Leadership
from opsgate.errors import StoreError
from opsgate.testing import FakeClock
from opsgate.worker import Job, Worker
from tests.core.scheduling_world import NOW

TTL_S = 30


@pytest.fixture
def store(database_url):
    store = open_store(database_url)
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def test_one_process_leads_and_keeps_leading_while_it_renews(store, clock):
    a, b = Leadership(store, clock, "a", ttl_s=TTL_S), Leadership(store, clock, "b", ttl_s=TTL_S)
    assert a.renew() and not b.renew()
    for _ in range(10):
        clock.advance(a.renew_every_s)
        assert a.renew() and not b.renew()
        assert a.holding() and not b.holding()


def test_a_stalled_leader_stops_before_another_can_take_over(store, clock):
    a, b = Leadership(store, clock, "a", ttl_s=TTL_S), Leadership(store, clock, "b", ttl_s=TTL_S)
    a.renew()
    clock.advance(TTL_S - a.renew_every_s)  # no renewal since: a gives up leading ...
    assert not a.holding()
    assert not b.renew()  # ... while its lease still runs in the database
    clock.advance(a.renew_every_s)
    assert b.renew() and b.holding()  # the lease ran out: b leads
    assert not a.renew() and not a.holding()  # a comes back as a follower


def test_a_released_lease_is_taken_at_once(store, clock):
    a, b = Leadership(store, clock, "a", ttl_s=TTL_S), Leadership(store, clock, "b", ttl_s=TTL_S)
    a.renew()
    a.release()
    assert not a.holding()
    assert b.renew()


class FailingStore:
    @contextmanager
    def transaction(self):
        raise StoreError("the database does not answer")
        yield


def test_a_database_failure_means_not_leading(store, clock):
    leader = Leadership(store, clock, "a", ttl_s=TTL_S)
    assert leader.renew()
    leader.store = FailingStore()
    assert not leader.renew() and not leader.holding()
    leader.release()  # logged, never raised


def test_singleton_jobs_run_only_in_the_leading_worker(store, clock):
    ran: list[str] = []

    def worker(name: str) -> Worker:
        return Worker([Job("once", lambda: ran.append(f"{name}:once") or 1, 5, singleton=True),
                       Job("each", lambda: ran.append(f"{name}:each") or 1, 5)],
                      Leadership(store, clock, name, ttl_s=TTL_S))

    a, b = worker("a"), worker("b")
    assert a.run_all_once() == ["once", "each"]
    assert b.run_all_once() == ["each"]
    assert ran == ["a:once", "a:each", "b:each"]
    a.stop()  # a graceful stop releases the lease
    assert b.run_all_once() == ["once", "each"]


def test_a_worker_without_leadership_runs_everything():
    ran: list[str] = []
    worker = Worker([Job("once", lambda: ran.append("once") or 1, 5, singleton=True)])
    assert worker.run_all_once() == ["once"] and ran == ["once"]


def test_a_failing_job_is_logged_and_the_next_still_runs(store, clock):
    worker = Worker([Job("broken", lambda: 1 / 0, 5, singleton=True), Job("fine", lambda: 1, 5)],
                    Leadership(store, clock, "a", ttl_s=TTL_S))
    assert worker.run_all_once() == ["broken", "fine"]


def test_the_lease_expiry_is_stored_as_the_clock_says(store, clock):
    Leadership(store, clock, "a", ttl_s=TTL_S).renew()
    with store.transaction() as tx:
        assert tx.lease_holder("scheduler", NOW + timedelta(seconds=TTL_S - 1)) == "a"
        assert tx.lease_holder("scheduler", NOW + timedelta(seconds=TTL_S)) is None
