"""Notification state in the store (SQLite and PostgreSQL): groups and their alerts round trip,
silences, deployment summaries keep their id and first start, hourly counters add up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from opsgate.domain.alert_groups import Acknowledgement, AlertMeta, DeploymentRecord, GroupState, StoredGroup
from opsgate.domain.alerts import Alert, AlertStatus, Severity
from opsgate.domain.matchers import parse_matcher
from opsgate.domain.silences import Silence

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _alert(name: str, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(key=f"cloudwatch:{name}", source="cloudwatch", kind="metric_alarm", severity=Severity.HIGH,
                 status=status, title=name, summary="s", occurred_at=T0, event_id="e", environment="prod",
                 labels={"alarm_name": name})


def _group(*alerts: Alert) -> StoredGroup:
    state = GroupState(key="environment=prod,source=cloudwatch", labels=(("environment", "prod"), ("source", "cloudwatch")),
                       incarnation=1, next_flush_at=T0 + timedelta(seconds=30), alerts={a.key: a for a in alerts})
    meta = {a.key: AlertMeta(id=f"a-0000000{i}", joined_at=T0, fired_at=T0) for i, a in enumerate(alerts)}
    return StoredGroup(id="g-00000001", route="default", channel="C1", state=state, created_at=T0, meta=meta)


def test_a_group_and_its_alerts_round_trip_and_are_found_by_scope_by_alert_and_by_ids(store):
    group = _group(_alert("a"), _alert("b"))
    with store.transaction() as tx:
        tx.alert_group_save(group, list(group.state.alerts), T0)
    with store.transaction() as tx:
        [by_scope] = tx.alert_groups_open({("default", "C1", group.state.key)}, ())
        [by_alert] = tx.alert_groups_open((), {"cloudwatch:b"})
        assert by_scope.state == group.state == by_alert.state and by_scope.meta == group.meta
        assert tx.alert_group_get("a-00000001").id == "g-00000001"
        assert tx.alert_groups_due(T0 + timedelta(seconds=29), limit=10) == []
        assert [g.id for g in tx.alert_groups_due(T0 + timedelta(seconds=30), limit=10)] == ["g-00000001"]
        assert tx.alert_groups_next_due_at() == T0 + timedelta(seconds=30)
        assert tx.alert_incarnations({("default", "C1", group.state.key)}) == {("default", "C1", group.state.key): 1}


def test_an_alert_that_left_is_not_loaded_and_comes_back_in_its_row(store):
    group = _group(_alert("a"), _alert("b"))
    with store.transaction() as tx:
        tx.alert_group_save(group, list(group.state.alerts), T0)
        del group.state.alerts["cloudwatch:b"]
        tx.alert_group_save(group, ["cloudwatch:b"], T0)
        assert list(tx.alert_group_get(group.id).state.alerts) == ["cloudwatch:a"]
        assert tx.alert_groups_open((), {"cloudwatch:b"}) == []
        group.state.alerts["cloudwatch:b"] = _alert("b")
        group.meta["cloudwatch:b"].joined_at = T0 + timedelta(seconds=5)
        tx.alert_group_save(group, ["cloudwatch:b"], T0)
        assert list(tx.alert_group_get(group.id).state.alerts) == ["cloudwatch:a", "cloudwatch:b"]


def test_an_ended_group_is_not_open_and_acknowledgements_are_kept(store):
    group = _group(_alert("a"))
    group.ended_at = T0
    with store.transaction() as tx:
        tx.alert_group_save(group, list(group.state.alerts), T0)
        tx.alerts_acknowledged([Acknowledgement(group.id, "cloudwatch:a", T0, T0 + timedelta(seconds=90), "carol")])
        assert tx.alert_groups_open({("default", "C1", group.state.key)}, {"cloudwatch:a"}) == []
        assert tx.alert_groups_recent(open_only=False, limit=5)[0].id == group.id
        assert tx.ack_waits_s(T0, T0 + timedelta(hours=1)) == [90.0]
        assert tx.ack_waits_s(T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == []


def test_silences_are_active_until_they_expire_or_end_and_count_what_they_kept_back(store):
    silence = Silence("s-00000001", (parse_matcher("alarm=api-*"), parse_matcher("severity>=high")), "carol", "Carol",
                      "deploying", T0, T0 + timedelta(hours=2))
    with store.transaction() as tx:
        tx.silence_add(silence)
        tx.silences_counted({"s-00000001": 3})
        tx.silences_counted({"s-00000001": 2})
        [active] = tx.silences_active(T0 + timedelta(minutes=5))
        assert active.matcher_text == "alarm=api-* severity>=high" and active.silenced == 5
        assert tx.silences_active(T0 + timedelta(hours=2)) == []
        assert tx.silence_end("s-00000001", "bob", T0 + timedelta(minutes=10))
        assert not tx.silence_end("s-00000001", "bob", T0 + timedelta(minutes=11))  # ended already
        assert tx.silences_active(T0 + timedelta(minutes=12)) == []
        assert tx.silence_get("s-00000001").ended_by == "bob"


def test_a_deployment_keeps_its_id_and_first_start_and_a_late_start_never_reopens_it(store):
    def put(tx, record_id, started, finished, result):
        return tx.deployment_put(DeploymentRecord(record_id, "codedeploy:d-1", "C1", "default", started, finished,
                                                  {"result": result}), T0)

    with store.transaction() as tx:
        first = put(tx, "d-00000001", T0, None, "started")
        done = put(tx, "d-00000002", None, T0 + timedelta(minutes=7), "succeeded")
        assert (done.id, done.started_at, done.duration_s) == (first.id, T0, 420.0)
        late = put(tx, "d-00000003", T0 + timedelta(minutes=1), None, "in_progress")  # a retried, older event
        assert (late.id, late.finished_at, late.body) == (first.id, T0 + timedelta(minutes=7), {"result": "succeeded"})


def test_a_deployment_is_read_back_by_its_id(store):
    record = DeploymentRecord("d-00000001", "codedeploy:d-1", "C1", "default", T0, T0 + timedelta(minutes=7),
                              {"result": "succeeded"})
    with store.transaction() as tx:
        tx.deployment_put(record, T0)
    with store.reading() as tx:
        assert tx.deployment_get("d-00000001") == record
        assert tx.deployment_get("d-00000002") is None


def test_counters_add_up_by_hour(store):
    with store.transaction() as tx:
        tx.notifications_counted({"events_processed": 3, "alerts_fired": 1}, T0 + timedelta(minutes=5))
        tx.notifications_counted({"events_processed": 2, "unused": 0}, T0 + timedelta(minutes=50))
        tx.notifications_counted({"events_processed": 7}, T0 + timedelta(hours=1, minutes=1))
        assert tx.notification_counts(T0, T0 + timedelta(hours=1)) == {"events_processed": 5, "alerts_fired": 1}
        assert tx.notification_counts(T0, T0 + timedelta(hours=2)) == {"events_processed": 12, "alerts_fired": 1}
