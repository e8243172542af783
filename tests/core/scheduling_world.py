"""A catalog with runbooks, schedules and a service identity, and a dispatcher over a real store with
a fake clock, for the tests of runbook search, scheduled checks, reminders and leadership."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from opsgate.adapters.builtin_actions import BuiltinActions
from opsgate.adapters.store import SqlStore, open_store
from opsgate.config import load_catalog_text
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.core.leadership import Leadership
from opsgate.core.reminders import ReminderDelivery
from opsgate.core.runbooks import RunbookSearch
from opsgate.core.schedules import ScheduledChecks
from opsgate.domain.catalog import ActionSpec
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult
from opsgate.testing import FakeClock, RecordingChat
from opsgate.wiring import action_validators
from opsgate.worker import Job, Worker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Berlin
LEASE_TTL_S = 30

CATALOG = f"""\
version: 1
timezone: Europe/Berlin
runbooks: {{path: {EXAMPLES / "runbooks"}}}
environments:
  - {{name: dev, account: "111111111111", region: eu-west-1}}
  - {{name: staging, account: "111111111111", region: eu-west-1}}
  - {{name: prod, account: "222222222222", region: eu-west-1, protected: true}}
people:
  - {{id: alice, name: Alice Example, identities: {{console: alice, slack: U0ALICE}}}}
  - {{id: bob, name: Bob Example, identities: {{console: bob, slack: U0BOB}}}}
  - {{id: erin, name: Erin Example, identities: {{console: erin}}}}
  - {{id: scheduler, name: opsgate scheduler, identities: {{schedule: scheduler}}}}
roles:
  - {{name: developer, members: [alice, bob]}}
  - {{name: sre, members: [bob], permissions: [approve]}}
  - {{name: auditor, members: [erin], permissions: [audit]}}
  - {{name: observer, members: [scheduler]}}
commands:
  - name: alarms
    summary: Alarms in ALARM
    class: read
    roles: [developer, sre, observer]
    parameters: [{{name: env, type: environment}}]
    action: {{kind: probe}}
  - name: runbook
    summary: Find runbooks
    class: read
    roles: [developer, sre]
    parameters: [{{name: words, type: string, greedy: true}}]
    action: {{kind: runbook-search, query: "{{words}}", limit: 3}}
  - name: rollback
    summary: Roll a service back
    class: mutate
    roles: [developer, sre]
    parameters:
      - {{name: service, type: enum, values: [web, api, worker]}}
      - {{name: env, type: environment}}
    action: {{kind: builtin, operation: echo, message: "Rolled {{service}} back in {{env}}"}}
  - name: deploy status
    summary: Pipeline state
    class: read
    roles: [developer, sre]
    parameters:
      - {{name: service, type: enum, values: [web]}}
      - {{name: env, type: environment}}
    action: {{kind: builtin, operation: echo, message: "{{service}} in {{env}}: v42"}}
  - name: env
    summary: Summary
    class: read
    roles: [developer, sre]
    parameters: [{{name: env, type: environment}}]
    action: {{kind: builtin, operation: echo, message: "{{env}} is fine"}}
  - name: restart
    summary: Restart
    class: mutate
    roles: [developer, sre]
    parameters:
      - {{name: service, type: enum, values: [web, api, worker]}}
      - {{name: env, type: environment}}
    action: {{kind: builtin, operation: echo, message: "Restarted {{service}} in {{env}}"}}
  - name: deploy rollback
    summary: CodeDeploy rollback
    class: mutate
    roles: [sre]
    parameters: [{{name: env, type: environment}}]
    action: {{kind: builtin, operation: echo, message: "Rolled back in {{env}}"}}
  - name: service rollback
    summary: ECS rollback
    class: mutate
    roles: [sre]
    parameters:
      - {{name: service, type: enum, values: [web]}}
      - {{name: env, type: environment}}
    action: {{kind: builtin, operation: echo, message: "Rolled {{service}} back in {{env}}"}}
  - name: cache flush
    summary: Flush
    class: destructive
    roles: [sre]
    parameters: [{{name: env, type: environment}}]
    action: {{kind: builtin, operation: echo, message: "Flushed {{env}}"}}
  - name: cost
    summary: Cost
    class: read
    roles: [developer]
    parameters: [{{name: env, type: environment}}]
    action: {{kind: builtin, operation: echo, message: "cheap"}}
schedules:
  - name: prod-alarms
    cron: "*/15 * * * *"
    run: alarms env=prod
    run_as: scheduler
    channel: C0OPS
"""


class Probe:
    """The automation behind `alarms` in these tests: its answer is whatever the test sets."""

    def __init__(self) -> None:
        self.answer = "No alarms in ALARM."
        self.failing = False
        self.calls = 0

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        return [PlannedCall("probe:read", "alarms")]

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        self.calls += 1
        if self.failing:
            raise AutomationError(self.answer)
        return RunResult(ok=True, summary=self.answer)

    def poll(self, action, params, ctx, checkpoint) -> RunResult:
        raise AutomationError("nothing to follow")


def load(text: str = CATALOG, source: str = "opsgate.yaml"):
    return load_catalog_text(text, source, action_validators={**action_validators(), "probe": lambda _settings: []})


class World:
    """One opsgate process: dispatcher, scheduled checks, reminder delivery and a worker holding
    (or not) the scheduler lease. Several worlds may share one store and one clock (replicas)."""

    def __init__(self, url: str | None = None, *, store: SqlStore | None = None, clock: FakeClock | None = None,
                 text: str = CATALOG, holder: str = "process-1", base_url: str | None = None) -> None:
        self.clock = clock or FakeClock(NOW)
        self.chat = RecordingChat()
        self.store = store or open_store(url)
        self.catalog = load(text)
        self.probe = Probe()
        router = AutomationRouter({"builtin": BuiltinActions(), "probe": self.probe,
                                   "runbook-search": RunbookSearch(self.catalog.runbooks, base_url)})
        self.dispatcher = Dispatcher(self.catalog, self.store, router, self.chat, self.clock)
        self.checks = ScheduledChecks(self.dispatcher)
        self.delivery = ReminderDelivery(self.dispatcher.rt)
        self.leadership = Leadership(self.store, self.clock, holder, ttl_s=LEASE_TTL_S)
        self.worker = Worker([Job("schedules", self.checks.run_due, 5, singleton=True),
                              Job("reminders", self.delivery.deliver_due, 5, singleton=True),
                              Job("everywhere", lambda: 0, 5)], self.leadership)

    def say(self, person: str, text: str, *, channel: str = "C0OPS", thread: str | None = None,
            platform: str = "console") -> Reply:
        return self.dispatcher.handle(Inbound(Actor(platform, person, person.title()), text, channel, thread=thread))

    def audit(self) -> list[dict]:
        return [r.fields() for r in self.store.iter_audit()]

    def posts(self, channel: str | None = None) -> list[str]:
        return [m.text for m in self.chat.messages if channel is None or m.channel == channel]
