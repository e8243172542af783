"""The execution guard holds back changes only: a read or a dry run runs during a freeze or another
person's lock (the environment summary must still say that the environment is frozen)."""

from __future__ import annotations

from datetime import timedelta

from opsgate.domain.decision import DecisionKind
from opsgate.domain.lock import Lock
from opsgate.policy import PolicyInput, execution_guard
from tests.factories import NOW, catalog, weekly_freeze

FROZEN = catalog(freezes=(weekly_freeze(("mon",)),))  # NOW is a Monday
LOCKED = Lock("prod", "carol", "Carol", "migration", NOW - timedelta(minutes=5), NOW + timedelta(hours=1))


def guard(command: str, *, dry_run: bool = False, lock: Lock | None = None) -> DecisionKind:
    inp = PolicyInput(command=FROZEN.commands[command], params={"service": "web", "env": "prod"},
                      person=FROZEN.person("bob"), sender="bob", channel="C1", is_dm=False, now=NOW,
                      environment=FROZEN.environments["prod"], lock=lock, dry_run=dry_run)
    return execution_guard(inp, break_glass_granted=False).kind


def test_a_read_runs_during_a_freeze_and_another_persons_lock():
    assert guard("deploy status") is DecisionKind.ALLOW
    assert guard("deploy status", lock=LOCKED) is DecisionKind.ALLOW


def test_a_dry_run_of_a_change_runs_during_a_freeze():
    assert guard("restart", dry_run=True) is DecisionKind.ALLOW


def test_a_change_is_still_held_back():
    assert guard("restart") is DecisionKind.BLOCKED
