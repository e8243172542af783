"""One incident from declaration to postmortem, through the composition root (catalog file, SQLite,
the console's chat and rooms) with a test clock, its timeline and its export checked line by line."""

from __future__ import annotations

import io

from rich.console import Console

from opsgate.adapters.chat.console import ConsoleChat
from opsgate.adapters.chat.console_rooms import ConsoleRooms
from opsgate.config.settings import resolve_settings
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.testing import FakeClock
from opsgate.wiring import build
from tests.e2e.slack_world import CATALOG
from tests.factories import NOW

ROOM = "#inc-2026-03-02-checkout-returns-500s"
FLOW_CATALOG = CATALOG.replace("identities: {slack: U0ALICE}", "identities: {slack: U0ALICE, console: alice}") \
    .replace("identities: {slack: U0BOB}", "identities: {slack: U0BOB, console: bob}") \
    .replace("identities: {slack: U0CAROL}", "identities: {slack: U0CAROL, console: carol}") + """
incidents:
  channel: C0INCIDENTS
  stakeholder_channel: C0STATUS
  severities:
    - {name: "1", description: critical, responders: [carol]}
    - {name: "2", description: major, responders: [bob]}
  link_patterns: ['https://jira\\.example\\.com/browse/[A-Z]+-\\d+']
"""


class Flow:
    def __init__(self, tmp_path) -> None:
        (tmp_path / "opsgate.yaml").write_text(FLOW_CATALOG)
        settings = resolve_settings({"OPSGATE_DATA_DIR": str(tmp_path)}, config=tmp_path / "opsgate.yaml", cwd=tmp_path)
        self.screen = io.StringIO()
        console = Console(file=self.screen, width=400, soft_wrap=True)
        self.clock = FakeClock(NOW)
        self.app = build(settings, ConsoleChat(console), clock=self.clock, rooms=ConsoleRooms(console))

    def at(self, hhmm: str, person: str, line: str, channel: str = ROOM):
        hour, minute = map(int, hhmm.split(":"))
        self.clock.set(NOW.replace(hour=hour, minute=minute))
        reply = self.app.dispatcher.handle(Inbound(Actor("console", person), line, channel))
        assert reply.ok, reply.text
        return reply


def test_an_incident_from_declaration_to_postmortem(tmp_path):
    flow = Flow(tmp_path)
    try:
        flow.at("09:00", "alice", 'incident declare sev=2 title="Checkout returns 500s"', channel="C0OPS")
        flow.at("09:04", "bob", "incident ack")
        flow.at("09:06", "alice", "incident assign role=operations bob")
        flow.at("09:10", "bob", 'incident update status=identified "A config push at 08:55 broke the payment client"')
        request_id = flow.at("09:12", "bob", "restart web prod").request_id
        flow.at("09:15", "carol", f"approve {request_id}", channel="C0OPS")
        flow.at("09:31", "bob", 'incident update status=mitigated at=09:30 "Restarted web; error rate normal"')
        flow.at("09:40", "alice", "incident link https://jira.example.com/browse/OPS-42")
        flow.at("10:05", "alice", 'incident resolve "Root cause: a config push without a canary"')
        flow.at("10:06", "carol", "incident export")
        screen = flow.screen.getvalue()
        draft = screen[screen.index("# Postmortem draft"):].split("\n[", 1)[0]
        assert draft.rstrip("\n").splitlines() == EXPECTED.replace("REQUEST", request_id).rstrip("\n").splitlines()
        assert f"[console] created the channel {ROOM}" in screen and f"invited alice, bob to {ROOM}" in screen
        with flow.app.store.transaction() as tx:
            [times] = tx.incident_times(NOW, NOW.replace(hour=23))
        assert (times.seconds_to("acknowledged"), times.seconds_to("mitigated"), times.seconds_to("resolved")) == (
            240, 1800, 3900)
    finally:
        flow.app.close()


EXPECTED = """\
# Postmortem draft — inc-1: Checkout returns 500s

> Draft written by opsgate on 2026-03-02 10:06 UTC from the incident's record. Sections marked
> **TO WRITE** are for the people who worked the incident; everything else comes from the record.

## Summary

| | |
| --- | --- |
| Incident | inc-1 |
| Title | Checkout returns 500s |
| Severity | sev 2 (major) |
| Status | resolved |
| Declared | 2026-03-02 09:00 UTC by Alice Example |
| Acknowledged | 2026-03-02 09:04 UTC (4m after declaration) |
| Mitigated | 2026-03-02 09:30 UTC (30m after declaration) |
| Resolved | 2026-03-02 10:05 UTC (1h5m after declaration) |
| Ticket | https://jira.example.com/browse/OPS-42 |
| Room | #inc-2026-03-02-checkout-returns-500s |

**TO WRITE**: what happened, in one paragraph for someone who was not there.

## Impact

**TO WRITE**: who and what was affected (customers, requests, regions), from when to when, and how badly.

## Durations

- Time to acknowledge: 4m
- Time to mitigate: 30m
- Time to resolve: 1h5m

## Roles

- Commander: Alice Example (`alice`), since 2026-03-02 09:00 UTC
- Communications: nobody assigned
- Operations: Bob Example (`bob`), since 2026-03-02 09:06 UTC

## Timeline (UTC)

- 2026-03-02 09:00 **declared** — Declared sev 2 (major): Checkout returns 500s (Alice Example)
- 2026-03-02 09:00 **room** — Created the channel #inc-2026-03-02-checkout-returns-500s (Alice Example)
- 2026-03-02 09:04 **ack** — Acknowledged by Bob Example (Bob Example)
- 2026-03-02 09:06 **role** — Bob Example is operations (Alice Example)
- 2026-03-02 09:10 **status** — declared → identified: A config push at 08:55 broke the payment client (Bob Example)
- 2026-03-02 09:12 **command** — Bob Example asked for `REQUEST` restart env=prod service=web [prod] — awaiting approval (1 needed from sre, oncall) (Bob Example)
- 2026-03-02 09:15 **approval** — Carol Example approved `REQUEST` restart env=prod service=web [prod] (Carol Example)
- 2026-03-02 09:15 **command** — `REQUEST` restart env=prod service=web [prod] succeeded: Restarted web in prod (opsgate)
- 2026-03-02 09:30 **status** — identified → mitigated: Restarted web; error rate normal (Bob Example)
- 2026-03-02 09:40 **link** — Ticket: https://jira.example.com/browse/OPS-42 (Alice Example)
- 2026-03-02 10:05 **resolved** — Resolved (acknowledged after 4m, mitigated after 30m, resolved after 1h5m): Root cause: a config push without a canary (Alice Example)

## Commands run

| request | command | asked by | outcome |
| --- | --- | --- | --- |
| `REQUEST` | restart env=prod service=web [prod] | Bob Example | succeeded |

## Approvals

- `REQUEST` restart env=prod service=web [prod]: approved by Carol Example (sre) at 2026-03-02 09:15 UTC

## Root cause

**TO WRITE**: why it happened; what made it possible.

## What went well

**TO WRITE**.

## What went wrong

**TO WRITE**.

## Action items

**TO WRITE**: one line each, with an owner and a ticket.

| action | owner | ticket |
| --- | --- | --- |
"""
