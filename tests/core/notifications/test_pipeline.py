"""Stored events through the whole chain on a real store (SQLite and PostgreSQL), timings driven by
the fake clock: one message per group, updated in place, details in its thread, resolved at the
end; generic and malformed events shown and counted; silences; deployments; restarts."""

from __future__ import annotations

import pytest

from opsgate.core.notifications import counters
from opsgate.domain.message import Mention
from tests.core.notifications.alert_samples import T0
from tests.core.notifications.event_samples import sample
from tests.core.notifications.notify_world import NotifyWorld, alarm


@pytest.fixture
def world(database_url):
    world = NotifyWorld(database_url)
    yield world
    world.close()


def test_an_alarm_waits_group_wait_then_gets_one_message_and_its_details_in_the_thread(world):
    world.receive(alarm("api-5xx"), alarm("api-latency", at=T0))
    assert world.at(0) == 0 and world.take() == []  # stored and grouped, nothing due yet
    world.at(29)
    assert world.take() == []
    world.at(30)
    main, details = world.take()
    assert main.channel == "C0ALERTS" and main.subject.startswith("alert-group/g-") and main.reply_to is None
    assert "2 alerts firing (2 high)" in main.text and "api-5xx" in main.text and "api-latency" in main.text
    group_id = main.subject.removeprefix("alert-group/")
    assert [b.command for b in main.buttons] == [f"ack {group_id}"]
    assert details.reply_to == main.subject and "*New:*" in details.text
    assert {link.label for link in details.links} == {"api-5xx", "api-latency"}
    assert main.mentions == () and details.mentions == ()  # high is below mention_at (critical)


def test_repeats_of_a_firing_alarm_change_nothing_and_its_resolution_updates_the_message(world):
    world.receive(alarm("api-5xx"))
    world.at(0)
    world.at(30)
    [main, _] = world.take()
    world.receive(alarm("api-5xx", at=T0 + _s(60)))  # the same alarm again: no news
    assert world.at(330) == 1 and world.take() == []
    world.receive(alarm("api-5xx", "OK", at=T0 + _s(400)))
    world.at(400)
    world.at(630)
    resolved, details = world.take()
    assert resolved.subject == main.subject  # the same message, updated in place
    assert "resolved, nothing fires any more" in resolved.text and resolved.buttons == ()
    assert "*Resolved:*" in details.text and details.reply_to == main.subject
    assert world.group(main.subject.removeprefix("alert-group/")).ended_at is not None
    world.receive(alarm("api-5xx", at=T0 + _s(700)))  # fires again: a new group, a new message
    world.at(700)
    world.at(730)
    again, _ = world.take()
    assert again.subject != main.subject and "1 alert firing" in again.text


def test_at_most_two_chat_messages_per_group_per_interval_in_a_storm(world):
    for second in range(0, 600, 3):
        world.receive(alarm(f"alarm-{second % 40}", "ALARM" if second % 9 else "OK", at=T0 + _s(second)))
        world.at(second)
    subjects = {m.subject or m.reply_to for m in world.messages}
    assert len(subjects) == 1
    assert len(world.messages) <= 2 * (1 + 600 // 300)


def test_a_critical_alert_mentions_the_configured_people_and_the_owners(world):
    world.receive(alarm("web-5xx", severity="critical"))
    world.at(0)
    world.at(30)
    main, details = world.take()
    # the new message carries the mention: carol (slack id for the console chat: her console id),
    # the on-call group and web-*'s owner alice
    assert set(main.mentions) == {Mention("carol"), Mention("S0ONCALL", group=True), Mention("alice")}
    world.receive(alarm("db-cpu", severity="critical", at=T0 + _s(40)))
    world.at(40)
    world.at(330)
    update, details = world.take()
    assert update.mentions == ()  # an update does not notify anyone: the thread reply does
    assert set(details.mentions) == {Mention("carol"), Mention("S0ONCALL", group=True)}


def test_routes_send_alerts_of_another_environment_to_their_channel(world):
    world.receive(alarm("dev-5xx", account="111111111111"), alarm("prod-5xx"))
    world.at(0)
    world.at(30)
    assert sorted({m.channel for m in world.take()}) == ["C0ALERTS", "C0DEV"]


def test_unknown_and_malformed_events_are_shown_as_generic_cards_and_counted(world):
    broken = dict(sample("eventbridge_cloudwatch_alarm"), id="broken-alarm")
    del broken["detail"]["state"]
    world.receive(sample("eventbridge_unknown_s3"), broken, source="eventbridge")
    world.receive({"source": "webhook:ci", "title": "Build 42 broke"}, source="webhook:ci")
    world.at(0)
    world.at(30)
    texts = "\n".join(m.text for m in world.take())
    assert "aws.s3: Object Created" in texts
    assert "could not be read: detail.state is missing" in texts
    assert "Build 42 broke" in texts
    counts = world.counts()
    assert counts[counters.GENERIC] == 2 and counts[counters.ERRORS] == 1 and counts[counters.EVENTS] == 3
    assert sorted(world.outcomes().values()) == ["error: detail.state is missing", "generic", "generic"]


def test_a_finished_pipeline_gets_one_summary_with_its_duration_and_a_failure_mentions_the_owner(world):
    failed = sample("eventbridge_codepipeline_execution_failed")
    world.receive(failed, source="eventbridge")
    world.at(0)  # deployments are not grouped: the summary goes out with the batch
    [summary] = world.take()
    assert summary.subject.startswith("deployment/d-") and "❌ *web-release* failed in 18m54s [prod]" in summary.text
    assert "Started by: arn:aws:sts::222222222222:assumed-role/Deployer/alice" in summary.text
    assert summary.mentions == (Mention("alice"),)  # web-*'s owner
    assert [link.label for link in summary.links] == ["Execution"]
    again = dict(failed, id="another-delivery-of-the-same-state")
    world.receive(again, source="eventbridge")
    world.at(1)
    [repeat] = world.take()
    assert repeat.subject == summary.subject  # the same execution: its message is updated, not posted again
    assert world.counts()[counters.DEPLOYMENTS] == 2


def test_a_deployment_seen_starting_gets_its_duration_from_then(world):
    started = sample("eventbridge_codedeploy_deployment")
    started["detail"]["state"], started["id"] = "START", "start-event"
    finished = sample("eventbridge_codedeploy_deployment")
    finished["time"] = "2026-03-02T09:12:30Z"
    world.receive(started, source="eventbridge")
    world.at(0)
    assert world.take() == []  # started: remembered, not posted
    world.receive(finished, source="eventbridge")
    world.at(1)
    [summary] = world.take()
    assert " in " in summary.text.splitlines()[0], summary.text


def test_a_restart_picks_up_the_groups_where_they_were(database_url):
    first = NotifyWorld(database_url)
    first.receive(alarm("api-5xx"))
    first.at(0)
    first.at(30)
    [main, _] = first.take()
    first.receive(alarm("api-5xx", "OK", at=T0 + _s(100)))
    first.at(100)  # processed, not yet due
    first.close()
    second = NotifyWorld(database_url, clock=first.clock)  # a new process: nothing in memory
    assert second.at(329) == 0
    second.at(330)
    resolved, _ = second.take()
    assert resolved.subject == main.subject and "resolved" in resolved.text


def _s(seconds: float):
    from datetime import timedelta

    return timedelta(seconds=seconds)


def test_an_alarm_state_delivered_late_never_reopens_what_a_newer_state_closed(world):
    world.receive(alarm("api-5xx", at=T0))
    world.at(0)
    world.at(30)
    [main, _] = world.take()
    world.receive(alarm("api-5xx", "OK", at=T0 + _s(60)))
    world.at(60)
    world.at(330)
    assert "resolved" in world.take()[0].text  # the group ended
    world.receive(alarm("api-5xx", at=T0 + _s(50), message_id="late-retry"))  # older than the OK
    world.at(400)
    world.at(700)
    assert world.take() == []
    assert world.counts()[counters.STALE] == 1
