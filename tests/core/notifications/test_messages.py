"""The chat-neutral text of alert-group and deployment messages: what a person reads."""

from __future__ import annotations

from datetime import timedelta

from opsgate.core.notifications.grouping import Flush, FlushReason
from opsgate.core.notifications.messages import LISTED, deployment_message, group_details, group_message
from opsgate.domain.alert_groups import AlertMeta, DeploymentRecord, GroupState, StoredGroup
from opsgate.domain.alerts import DeploymentEvent, DeploymentResult, Link, Severity
from tests.core.notifications.alert_samples import T0, alert, resolved


def group_of(*alerts) -> StoredGroup:
    state = GroupState(key="environment=prod,source=cloudwatch", labels=(("environment", "prod"), ("source", "cloudwatch")),
                       incarnation=1, next_flush_at=T0, alerts={a.key: a for a in alerts})
    meta = {a.key: AlertMeta(id=f"a-{i:08d}", joined_at=T0, fired_at=T0) for i, a in enumerate(alerts)}
    return StoredGroup(id="g-7k2m9qd4", route="default", channel="C1", state=state, created_at=T0, meta=meta)


def test_a_big_group_lists_the_first_alerts_and_says_how_many_more():
    alerts = [alert(f"alarm-{n:02d}", severity=Severity.CRITICAL if n < 3 else Severity.HIGH) for n in range(LISTED + 5)]
    message = group_message(group_of(*alerts), alerts)
    assert message.text.splitlines()[0] == f"🔥 *prod · cloudwatch* — {LISTED + 5} alerts firing (3 critical, {LISTED + 2} high)"
    assert "… and 5 more (in the thread and on the group's page)" in message.text
    assert message.subject == "alert-group/g-7k2m9qd4" and [b.command for b in message.buttons] == ["ack g-7k2m9qd4"]


def test_an_acknowledged_group_says_who_and_offers_no_button():
    group = group_of(alert("a"), alert("b"))
    for meta in group.meta.values():
        meta.acked_at, meta.acked_by, meta.acked_by_name = T0, "carol", "Carol Example"
    message = group_message(group, group.firing)
    assert "✔ Acknowledged by Carol Example" in message.text and message.buttons == ()


def test_details_name_each_alert_with_its_id_and_link_the_console():
    group = group_of(alert("a"), resolved("b"))
    flush = Flush(group.state.key, group.state.labels, 1, FlushReason.CHANGED, firing=(alert("a"),),
                  resolved=(resolved("b"),), mention=False, newly_firing=(alert("a"),))
    details = group_details(group, flush)
    assert details.reply_to == group.subject
    assert "*Firing since the last update:*\n• `a-00000000` 🟠 a (high, prod, 222222222222, eu-west-1, a)" in details.text
    assert "*Resolved:*\n• `a-00000001`" in details.text


def test_a_repeat_has_no_details():
    group = group_of(alert("a"))
    flush = Flush(group.state.key, group.state.labels, 1, FlushReason.REPEAT, firing=(alert("a"),), resolved=(),
                  mention=False)
    assert group_details(group, flush) is None


def test_a_deployment_summary_without_a_known_start_has_no_duration():
    event = DeploymentEvent(key="k", source="codedeploy", kind="deployment", result=DeploymentResult.SUCCEEDED,
                            title="web/prod d-1: succeeded", summary="", occurred_at=T0, event_id="e",
                            environment="prod", resource="web/prod", links=(Link("Deployment", "https://x"),))
    record = DeploymentRecord("d-00000001", "k", "C1", "default", None, T0, {})
    message = deployment_message(record, event)
    assert message.text.splitlines()[0] == "✅ *web/prod* succeeded [prod]"
    timed = DeploymentRecord("d-00000001", "k", "C1", "default", T0 - timedelta(minutes=3), T0, {})
    assert deployment_message(timed, event).text.splitlines()[0] == "✅ *web/prod* succeeded in 3m [prod]"
