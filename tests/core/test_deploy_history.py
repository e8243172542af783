"""Deployments: AWS's records merged with opsgate's requests, the views, and the rollback offered."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from opsgate.core.deploy_history import (
    choose,
    deployment_line,
    deployments_text,
    merge,
    rollback_buttons,
    rollback_line,
    split_settings,
    with_records,
)
from opsgate.domain.catalog import ActionSpec, Command, CommandClass, Parameter, ParamType
from opsgate.domain.deployment import Deployment, Phase
from opsgate.domain.message import Button
from opsgate.domain.request import RequestRecord, State

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ENV = Parameter("env", ParamType.ENVIRONMENT, values=("dev", "prod"))
SERVICE = Parameter("service", ParamType.ENUM, values=("web", "api"))
ROLLBACK = Command("service rollback", "Roll back", CommandClass.MUTATE, ActionSpec("builtin"), (SERVICE, ENV))
COMMANDS = {ROLLBACK.name: ROLLBACK}


def aws(id_: str, *, source: str = "codedeploy", phase: Phase = Phase.SUCCEEDED, hours: float = 0,
        service: str = "web", revision: str = "web-1.0.0.zip") -> Deployment:
    started = T0 + timedelta(hours=hours)
    return Deployment(source, service, id_, revision, phase.value, phase, started=started,
                      ended=None if phase.in_flight else started + timedelta(minutes=6))


def request(id_: str, *, state: State = State.SUCCEEDED, hours: float = 0, correlation: dict | None = None,
            params: dict | None = None) -> RequestRecord:
    at = T0 + timedelta(hours=hours)
    return RequestRecord(id_, "service rollback", params or {"service": "web", "env": "prod"}, "prod", "carol",
                         "Carol Example", "slack", "C0OPS", state, "b" * 64, at, at + timedelta(minutes=3),
                         result={"correlation": correlation or {}})


def no_pages(request_id):
    return None


def test_an_aws_deployment_started_by_a_request_carries_the_request_and_its_person():
    merged = merge([aws("d-1", hours=1), aws("d-0")],
                   [("web", request("r-00000001", hours=1, correlation={"deployment_id": "d-1"}))], COMMANDS)
    assert [(d.id, d.request_id, d.started_by) for d in merged] == [("d-1", "r-00000001", "Carol Example"),
                                                                    ("d-0", None, "")]


def test_a_request_that_started_nothing_aws_reports_is_its_own_entry_in_time_order():
    waiting = request("r-00000002", state=State.AWAITING_APPROVAL, hours=2)
    merged = merge([aws("d-1", hours=1), aws("ecs-1", source="ecs", phase=Phase.RUNNING, hours=3)],
                   [("web", waiting)], COMMANDS)
    assert [d.id for d in merged] == ["ecs-1", "r-00000002", "d-1"]
    entry = merged[1]
    assert (entry.source, entry.phase, entry.started_by, entry.request_id) == ("opsgate", Phase.WAITING,
                                                                               "Carol Example", "r-00000002")
    assert entry.revision == "service rollback service=web env=prod" and entry.ended is None


def test_final_request_states_map_to_phases():
    phases = {state: merge([], [("web", request("r-0000000a", state=state))], COMMANDS)[0].phase
              for state in (State.RUNNING, State.SUCCEEDED, State.FAILED, State.DENIED, State.EXPIRED)}
    assert phases == {State.RUNNING: Phase.RUNNING, State.SUCCEEDED: Phase.SUCCEEDED, State.FAILED: Phase.FAILED,
                      State.DENIED: Phase.STOPPED, State.EXPIRED: Phase.STOPPED}


def test_history_shows_the_newest_entries_up_to_last():
    found = merge([aws(f"d-{n}", hours=n) for n in range(6)], [], COMMANDS)
    assert [d.id for d in choose("history", found, 3)] == ["d-5", "d-4", "d-3"]


def test_status_shows_what_is_in_flight_and_the_newest_finished_from_each_source():
    found = merge([aws("p-2", source="codepipeline", phase=Phase.WAITING, hours=5),
                   aws("p-1", source="codepipeline", phase=Phase.FAILED, hours=4),
                   aws("p-0", source="codepipeline", hours=1), aws("d-1", hours=3), aws("d-0", hours=2),
                   aws("ecs-1", source="ecs", hours=2.5)], [], COMMANDS)
    assert [d.id for d in choose("status", found, 10)] == ["p-2", "p-1", "d-1", "ecs-1"]
    assert [d.id for d in choose("in-flight", found, 10)] == ["p-2"]


def test_each_entry_links_to_the_console_and_to_the_request_page():
    entry = merge([aws("d-1")], [("web", request("r-00000001", correlation={"deployment_id": "d-1"}))], COMMANDS)[0]
    entry = replace(entry, console_url="https://console.example/d-1")
    line = deployment_line(entry, lambda rid: f"https://ops.example.com/requests/{rid}")
    assert "✅ 2026-03-02 09:00 UTC *web* web-1.0.0.zip — succeeded, took 6m · codedeploy d-1" in line
    assert "by Carol Example · `r-00000001`" in line
    assert "https://console.example/d-1  ·  https://ops.example.com/requests/r-00000001" in line


def test_nothing_in_flight_says_so():
    assert deployments_text("in-flight", [], ["web"], "prod", 0, no_pages) == "Deployments in flight: none (web)"
    assert deployments_text("history", [], ["web"], "prod", 0, no_pages) == "No deployments of web in prod were found."


def test_rollback_is_offered_once_per_service_with_a_successful_deployment():
    shown = [aws("d-1"), aws("d-0", hours=-1), aws("a-1", service="api"), aws("x-1", service="worker"),
             aws("f-1", service="api", phase=Phase.FAILED)]
    assert rollback_buttons(ROLLBACK, shown, "prod") == (
        Button("Roll back web (prod)", "service rollback service=web env=prod"),
        Button("Roll back api (prod)", "service rollback service=api env=prod"))  # worker: not a value it takes


def test_a_rollback_command_with_a_revision_is_offered_each_earlier_revision():
    revision = Parameter("revision", pattern=r"[a-z0-9.:-]+", max_length=64)
    to_revision = Command("deploy rollback", "Redeploy a revision", CommandClass.MUTATE, ActionSpec("builtin"),
                          (revision, ENV))
    shown = [aws("d-2", revision="web-1.2.0.zip", hours=2), aws("d-1", revision="web-1.1.0.zip", hours=1),
             aws("d-0", revision="web-1.0.0.zip")]
    labels = [b.label for b in rollback_buttons(to_revision, shown, "prod")]
    assert labels == ["Roll back web to web-1.1.0.zip", "Roll back web to web-1.0.0.zip"]
    assert rollback_buttons(to_revision, shown, "prod")[0].command == "deploy rollback revision=web-1.1.0.zip env=prod"


def test_no_button_when_the_rollback_command_needs_what_the_list_cannot_give():
    reason = Parameter("reason", max_length=200)  # required, and nothing in the list says why
    needs_reason = Command("rollback", "Roll back", CommandClass.MUTATE, ActionSpec("builtin"), (SERVICE, ENV, reason))
    assert rollback_line(needs_reason, {"service": "web"}, "prod") is None
    assert rollback_buttons(needs_reason, [aws("d-1")], "prod") == ()
    assert rollback_buttons(None, [aws("d-1")], "prod") == ()


def test_the_records_part_is_split_off_before_the_aws_part_sees_the_settings():
    settings = {"view": "history", "services": {"web": {"pipeline": "web-release", "commands": ["rollback"]},
                                                "worker": {"commands": ["rollback"]}}}
    aws_part, records = split_settings(settings)
    assert aws_part["services"] == {"web": {"pipeline": "web-release"}, "worker": {}}
    assert records == {"web": ("rollback",), "worker": ("rollback",)}


def test_the_config_check_reports_bad_commands_and_services_that_name_nowhere_to_look():
    seen = []
    validate = with_records(lambda aws_part: seen.append(aws_part) or [])
    problems = validate({"services": {"web": {"commands": "rollback"}, "api": {}, "ok": {"commands": ["rollback"]}}})
    assert problems == ["services.web.commands: must be a list of command names, e.g. [rollback, deploy rollback]",
                        "services.api: says nowhere to look: give a pipeline, codedeploy, ecs or commands"]
    assert seen == [{"services": {"web": {}, "api": {}, "ok": {}}}]
