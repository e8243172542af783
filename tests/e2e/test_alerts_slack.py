"""Alarms end to end over real connections: signed SNS notifications POSTed to `opsgate serve`'s
ASGI app (uvicorn on 127.0.0.1), stored, grouped, one Slack message (local Web API) posted, updated
in place and marked resolved; acknowledged with a signed Slack button click; and the same across a
restart, with nothing lost or posted twice. The clock is a fake one: the test says when time passes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsgate.adapters.intake.testing import NOW, TOPIC, alarm_message, body, pem, signed_envelope
from opsgate.adapters.store.tables_events import events
from opsgate.testing import FakeClock
from tests.adapters.intake.conftest import cert_server, pki  # noqa: F401  (fixtures)
from tests.e2e.slack_world import OPS, SlackWorld, buttons_of

CATALOG = f"""
version: 1
environments:
  - {{name: prod, account: "222222222222", region: eu-west-1}}
people:
  - {{id: carol, name: Carol Example, identities: {{slack: U0CAROL}}}}
  - {{id: alice, name: Alice Example, identities: {{slack: U0ALICE}}}}
roles:
  - {{name: sre, members: [carol], permissions: [ack, silence]}}
  - {{name: developer, members: [alice], permissions: []}}
intake:
  sns:
    topics: ["{TOPIC}"]
notifications:
  default_channel: {OPS}
  grouping: {{group_wait: 30s, group_interval: 5m, mention_at: critical, mention: {{people: [carol]}}}}
  charts: false  # these tests are about grouping; charts are tested in test_alert_context*.py
"""


class AlertWorld(SlackWorld):
    def __init__(self, tmp_path, database_url, pki, cert_server, clock, catalog: str = CATALOG,  # noqa: F811
                 **kwargs) -> None:
        (tmp_path / "ca.pem").write_bytes(pem(pki.ca))
        env = {"OPSGATE_SNS_CERT_HOST_PATTERN": r"127\.0\.0\.1:\d+", "OPSGATE_SNS_CA_FILE": "ca.pem"}
        super().__init__(tmp_path, database_url, catalog=catalog, clock=clock, extra_env=env, **kwargs)
        self.pki, self.cert_server, self.clock = pki, cert_server, clock
        self.sent = 0

    def sns_alarm(self, name: str, state: str = "ALARM", *, severity: str = "high") -> None:
        self.sent += 1
        envelope = signed_envelope(self.pki.signing_key, self.cert_server.url(), message_id=f"msg-{self.sent}-{name}",
                                   timestamp=self.clock.now() - timedelta(seconds=2), subject=f"{state}: {name}",
                                   message=alarm_message(name, state, at=self.clock.now(),
                                                         description=f"severity={severity}"))
        answer = self.http.post("/events/sns", content=body(envelope),
                                headers={"x-amz-sns-message-type": "Notification", "Content-Type": "text/plain"})
        assert answer.status_code == 200, answer.text

    def calls(self, method: str, count: int) -> list[dict]:
        """The calls of `method` once there are `count` (bounded wait: the machine may be busy)."""
        return [c.args for c in self.api.wait_for(lambda: len(self.api.calls_to(method)) >= count
                                                  and self.api.calls_to(method), timeout_s=30)]

    def run(self, job: str) -> None:
        """Run one background job now (the scheduler runs it every second too; both are safe)."""
        [found] = [j for j in self.served.app.worker.jobs if j.name == job]
        found.run()

    def processed(self) -> None:
        """Run the processing job, and wait (bounded) for every stored event to be processed: the
        scheduler may be running the same job at the same moment, with events this run skipped."""
        self.run("notify-events")
        self.api.wait_for(lambda: self._unprocessed() == 0, timeout_s=30)

    def _unprocessed(self) -> int:
        with self.served.app.store.reading() as tx:
            return tx._conn.execute(sa.select(sa.func.count()).where(events.c.processed_at.is_(None))).scalar_one()

    def after(self, seconds: float) -> None:
        """Let `seconds` pass: process what came in, then flush what is due."""
        self.processed()
        self.clock.advance(seconds)
        self.run("notify-flush")


@pytest.fixture
def clock():
    return FakeClock(NOW)


def test_an_alarm_is_posted_once_acknowledged_by_a_click_updated_and_resolved(tmp_path, database_url, pki,  # noqa: F811
                                                                              cert_server, clock):  # noqa: F811
    world = AlertWorld(tmp_path, database_url, pki, cert_server, clock)
    try:
        world.sns_alarm("web-5xx", severity="critical")
        world.sns_alarm("web-latency")
        world.sns_alarm("web-5xx", severity="critical")  # a repeat: the same alert
        world.after(30)
        main, details = world.calls("chat.postMessage", 2)
        assert main["channel"] == OPS and "2 alerts firing (1 critical, 1 high)" in main["text"]
        assert main["text"].startswith("<@U0CAROL> ")  # critical: the configured person is mentioned
        assert details["thread_ts"] == world.api.calls_to("chat.postMessage")[0].answer["ts"]
        ack = buttons_of(main)["Ack"]
        assert world.click("U0CAROL", ack, details["thread_ts"]).status_code == 200
        [acked] = world.calls("chat.update", 1)
        assert "✔ Acknowledged by Carol Example" in acked["text"] and not buttons_of(acked)
        assert [r["event"] for r in world.audit() if r["event"] == "alert.acknowledged"] == ["alert.acknowledged"]
        world.sns_alarm("web-5xx", "OK")
        world.sns_alarm("web-latency", "OK")
        world.after(300)
        resolved = world.calls("chat.update", 2)[-1]
        assert resolved["ts"] == details["thread_ts"] and "resolved, nothing fires any more" in resolved["text"]
        world.settle()
        assert len(world.api.calls_to("chat.postMessage")) == 3  # the message, its details, the resolution's details
    finally:
        world.close()


def test_a_restart_loses_nothing_and_posts_nothing_twice(tmp_path, database_url, pki, cert_server, clock):  # noqa: F811
    for name in ("first", "second", "third"):
        (tmp_path / name).mkdir()
    first = AlertWorld(tmp_path / "first", database_url, pki, cert_server, clock, start_delivery=False)
    try:
        first.sns_alarm("web-5xx")
        first.after(30)  # grouped and flushed into the outbox; this process never sends it
    finally:
        first.close()
    assert first.api.calls_to("chat.postMessage") == []

    second = AlertWorld(tmp_path / "second", database_url, pki, cert_server, clock)
    try:
        second.settle()
        main, details = second.calls("chat.postMessage", 2)
        assert "web-5xx" in main["text"] and details["thread_ts"]
        second.sent = first.sent
        second.sns_alarm("web-5xx", "OK")
        second.processed()  # the group in the store (made by the first process) takes it
    finally:
        second.close()

    third = AlertWorld(tmp_path / "third", database_url, pki, cert_server, clock)
    try:
        third.clock.advance(300)
        third.run("notify-flush")
        [resolved] = third.calls("chat.update", 1)
        assert resolved["ts"] == details["thread_ts"] and "resolved" in resolved["text"]  # the same message
        third.settle()
        [reply] = [c.args for c in third.api.calls_to("chat.postMessage")]  # nothing from before is sent again
        assert reply["thread_ts"] == details["thread_ts"] and "*Resolved:*" in reply["text"]
    finally:
        third.close()


def test_an_alarm_in_an_incidents_environment_goes_into_its_timeline_and_draft(tmp_path, database_url, pki,  # noqa: F811
                                                                                cert_server, clock):  # noqa: F811
    incidents = "incidents:\n  channel: C0INCIDENTS\n  declare_roles: [developer]\n"
    world = AlertWorld(tmp_path, database_url, pki, cert_server, clock, catalog=CATALOG + incidents)
    try:
        assert world.command("U0ALICE", 'incident declare sev=2 title="Checkout returns 500s" env=prod').status_code == 200
        world.settle()
        [created] = world.api.calls_to("conversations.create")
        room = created.answer["channel"]["id"]
        clock.advance(60)
        world.sns_alarm("web-5xx", severity="critical")
        world.after(30)
        [main] = world.api.wait_for(lambda: [c.args for c in world.api.calls_to("chat.postMessage")
                                             if "firing" in c.args["text"]], timeout_s=30)
        ack = buttons_of(main)["Ack"]
        group = ack["value"].split()[1]
        assert world.click("U0CAROL", ack, world.api.calls_to("chat.postMessage")[-1].answer["ts"]).status_code == 200
        world.settle()
        clock.advance(60)
        world.sns_alarm("web-5xx", "OK", severity="critical")
        world.after(300)
        with world.served.app.store.reading() as tx:
            entries = [(e.kind, e.text, e.actor_id) for e in tx.incident_timeline("inc-1")]
        about = f"critical web-5xx on app/web-5xx/50dc6c495c0c9188 (prod) — alert group {group}"
        assert entries[2:] == [("alert", f"Fired: {about}", "cloudwatch"),
                               ("alert", f"Carol Example acknowledged {about}", "carol"),
                               ("alert", f"Resolved: {about}", "cloudwatch")]
        assert world.command("U0ALICE", "incident export", channel=room).status_code == 200
        world.settle()
        [draft] = world.api.uploads.values()
        assert f"**alert** — Resolved: {about} (cloudwatch) · [Alert group page](https://ops.example.com/alerts/{group})" \
            in draft.decode()
    finally:
        world.close()
