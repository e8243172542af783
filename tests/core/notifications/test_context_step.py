"""Which alarms get a chart and log lines, and where they go."""

from __future__ import annotations

from datetime import timedelta

from opsgate.core.notifications.context_step import AlarmContextStep, ContextRequest
from opsgate.domain.notification_rules import AlarmContextRule, NotificationRules
from opsgate.ports import AlertAttachments
from tests.core.notifications.alert_samples import T0, alert, resolved


class Fetcher:
    def __init__(self, fail: bool = False) -> None:
        self.asked: list[tuple[str, object]] = []
        self.fail = fail

    def attachments(self, alert, log_query):
        self.asked.append((alert.title, log_query))
        if self.fail:
            raise RuntimeError("boom")
        return AlertAttachments(chart_png=b"\x89PNG", chart_title=alert.title)


class Shown:
    def __init__(self) -> None:
        self.posted: list[tuple[str, str, AlertAttachments]] = []

    def post_context(self, channel, message_key, attachments):
        self.posted.append((channel, message_key, attachments))


LOGS = AlarmContextRule(alarm="api-*", log_group="/aws/lambda/api", query="fields @message | filter @message like /ERROR/")


def test_nothing_is_wanted_until_a_fetcher_and_a_chat_are_wired():
    assert not AlarmContextStep(NotificationRules()).wanted(alert("web-5xx"))


def test_new_cloudwatch_alarms_get_a_chart_and_their_log_query():
    fetcher, shown = Fetcher(), Shown()
    step = AlarmContextStep(NotificationRules(context=(LOGS,)), fetcher, shown)
    assert step.wanted(alert("web-5xx")) and step.wanted(alert("api-errors"))
    assert not step.wanted(resolved("web-5xx")) and not step.wanted(alert("x", source="guardduty"))
    step([ContextRequest(alert("api-errors"), "C0OPS", "alert-group/g-1")])
    assert fetcher.asked[0][0] == "api-errors" and fetcher.asked[0][1].log_group == "/aws/lambda/api"
    assert shown.posted[0][:2] == ("C0OPS", "alert-group/g-1")


def test_with_charts_off_only_alarms_a_log_query_names_get_context():
    step = AlarmContextStep(NotificationRules(context=(LOGS,), charts=False), Fetcher(), Shown())
    assert step.wanted(alert("api-errors")) and not step.wanted(alert("web-5xx"))


def test_a_failing_fetch_is_logged_and_posts_nothing():
    shown = Shown()
    AlarmContextStep(NotificationRules(), Fetcher(fail=True), shown)([ContextRequest(alert("a"), "C1", "k")])
    assert shown.posted == []


def test_the_alarm_that_opens_a_groups_message_gets_context_and_later_ones_do_not(database_url):
    """One context post per group message: with the post itself, two chat calls for a new group,
    as for every flush after it (an update and a thread reply)."""
    from tests.core.notifications.notify_world import NotifyWorld, alarm

    world = NotifyWorld(database_url)
    fetcher, shown = Fetcher(), Shown()
    world.flusher.context = AlarmContextStep(world.flusher.rules, fetcher, shown)
    try:
        world.receive(alarm("web-5xx", at=T0), alarm("api-errors", at=T0))
        world.at(0)
        world.at(31)  # group_wait over: the group's message is posted
        [(opening, _)] = fetcher.asked  # one of the two alarms that open the message
        assert opening in ("web-5xx", "api-errors") and len(shown.posted) == 1
        world.receive(alarm("db-cpu", at=T0 + timedelta(seconds=60)))
        world.at(60)
        world.at(331)  # group_interval over: an update and a thread reply, no context
        assert len(fetcher.asked) == 1
        world.receive(*(alarm(name, "OK", at=T0 + timedelta(seconds=400)) for name in ("web-5xx", "api-errors", "db-cpu")))
        world.at(400)
        world.at(631)  # all resolved: the group ends
        world.receive(alarm("db-cpu", at=T0 + timedelta(seconds=700)))
        world.at(700)
        world.at(731)  # fires again: a new message, and context with it
        assert [title for title, _ in fetcher.asked] == [opening, "db-cpu"]
    finally:
        world.close()
