"""Small domain catalogs built in code, for unit tests of the parser and the policy."""

from __future__ import annotations

from datetime import datetime, time, timezone

from opsgate.domain.catalog import (
    ActionSpec,
    ApprovalRule,
    ArgumentRule,
    Catalog,
    Command,
    CommandClass,
    Environment,
    EnvironmentRules,
    LinkRule,
    Parameter,
    ParamType,
    PersonEntry,
    RateLimit,
    Role,
)
from opsgate.domain.freeze import FreezeWindow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
ENVS = ("dev", "staging", "prod")


def environments(freezes: tuple[FreezeWindow, ...] = ()) -> dict[str, Environment]:
    return {
        "dev": Environment("dev", "111111111111", "eu-west-1"),
        "staging": Environment("staging", "111111111111", "eu-west-1"),
        "prod": Environment("prod", "222222222222", "eu-west-1", protected=True, freezes=freezes),
    }


def echo(message: str = "done") -> ActionSpec:
    return ActionSpec("builtin", {"operation": "echo", "message": message})


def commands() -> dict[str, Command]:
    service = Parameter("service", ParamType.ENUM, values=("web", "api", "worker"))
    env = Parameter("env", ParamType.ENVIRONMENT, values=ENVS)
    return {
        c.name: c
        for c in [
            Command("deploy status", "Show what is deployed", CommandClass.READ, echo("{service} in {env}: v42"),
                    (service, env), roles=("developer", "sre")),
            Command("rollback", "Roll back", CommandClass.MUTATE, echo("rolled back {service} in {env}"),
                    (service, env, Parameter("reason", required=False, default="")),
                    roles=("developer", "sre"),
                    argument_rules=(ArgumentRule("developer", {"env": ("dev", "staging")}),),
                    environment_rules={"prod": EnvironmentRules(
                        approval=ApprovalRule(1, ("sre",), 1800),
                        link=LinkRule(True, (r"https://github\.com/acme/[a-z-]+/pull/\d+",)))},
                    rate_limit=RateLimit(3, 3600), owner="platform"),
            Command("restart", "Restart", CommandClass.MUTATE, echo("restarted {service} in {env}"),
                    (service, env), roles=("developer", "sre")),
            Command("cache flush", "Flush the cache", CommandClass.DESTRUCTIVE, echo("flushed {env}"),
                    (env,), roles=("sre",)),
            Command("secret rotate", "Rotate a secret", CommandClass.MUTATE, echo("rotated {name}"),
                    (Parameter("name", pattern=r"[a-z-]+"), Parameter("value", secret=True), env), roles=("sre",)),
            Command("prod only", "Runs only in the prod channel", CommandClass.READ, echo(), (),
                    roles=("developer", "sre"), channels=("C-PROD",), allow_dm=False),
        ]
    }


def catalog(freezes: tuple[FreezeWindow, ...] = ()) -> Catalog:
    return Catalog(
        environments=environments(freezes),
        people={
            p.id: p for p in [
                PersonEntry("alice", "Alice", {"console": "alice", "slack": "U0ALICE"}),
                PersonEntry("bob", "Bob", {"console": "bob", "slack": "U0BOB"}),
                PersonEntry("carol", "Carol", {"console": "carol", "slack": "U0CAROL"}),
                PersonEntry("nora", "Nora No-Role", {"console": "nora"}),
            ]
        },
        roles={
            r.name: r for r in [
                Role("developer", ("alice", "bob")),
                Role("sre", ("bob", "carol"), frozenset({"approve", "break-glass", "lock", "unlock-any", "audit"})),
            ]
        },
        commands=commands(),
    )


def weekly_freeze(days: tuple[str, ...] = ("mon",), start: time = time(0, 0), end: time = time(23, 59)) -> FreezeWindow:
    return FreezeWindow(name="weekly", timezone="Europe/Berlin", days=days, start_time=start, end_time=end)
