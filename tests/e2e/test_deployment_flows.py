"""Deployments, the environment summary and the numbers, as `opsgate demo` runs them: the example
catalog over the AWS sandbox (moto over HTTP, real boto3) and a real store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsgate.config.settings import resolve_settings
from opsgate.domain.request import State
from opsgate.testing import RecordingChat
from opsgate.wiring import build
from tests.e2e.test_aws_flows import World as FlowsWorld
from tests.e2e.test_aws_flows import waiting_id

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "opsgate.yaml"
PAGES = "https://ops.example.com"


class World(FlowsWorld):
    """The flows' world, with pages: lists link each request to its page."""

    def __init__(self, tmp_path: Path) -> None:
        settings = resolve_settings({"OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_SANDBOX": "1",
                                     "OPSGATE_BASE_URL": PAGES}, config=EXAMPLE, cwd=tmp_path)
        self.chat = RecordingChat()
        self.app = build(settings, self.chat)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    flows = World(tmp_path_factory.mktemp("deployments"))
    yield flows
    flows.app.close()


def test_history_merges_the_pipeline_codedeploy_and_ecs_newest_first_with_who_started_each(world):
    reply = world.say("carol", "deploy history web prod last=6")
    assert reply.ok, reply.text
    lines = [line for line in reply.text.splitlines() if line.startswith("• ")]
    assert len(lines) == 6 and "newest first (6 of 7 found)" in reply.text
    assert lines[0].startswith("• ⏸ ") and "web/web-1.3.0.zip — InProgress" in lines[0] and "by alice" in lines[0]
    assert "waits for approval at Approve/ProdApproval" in reply.text
    assert "❌" in lines[1] and "web/web-1.2.0.zip — Failed" in lines[1]
    assert "smoke tests failed in staging" in reply.text
    assert any("web:2 — COMPLETED (2/2 tasks)" in line for line in lines)
    assert any("s3://acme-releases/web/web-1.1.0.zip — Succeeded" in line for line in lines)
    stamps = [re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d) UTC", line).group(1) for line in lines]
    assert stamps == sorted(stamps, reverse=True)
    assert "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/web-release/executions/" in reply.text
    assert [(b.label, b.command) for b in reply.buttons] == [("Roll back web (prod)",
                                                              "service rollback service=web env=prod")]


def test_status_without_a_service_shows_every_service_in_flight_and_latest(world):
    reply = world.say("bob", "deploy status")
    assert reply.ok, reply.text
    assert reply.text.splitlines()[1] == "Deployments of web in prod:"
    in_flight, latest = reply.text.split("Latest finished:")
    assert "web/web-1.3.0.zip" in in_flight and "web-1.2.0" not in in_flight
    assert "web:2" in latest and "codedeploy" in latest


def test_the_rollback_button_goes_through_the_approval_path_and_lands_in_the_history(world):
    button = world.say("carol", "deploy history web prod").buttons[0]
    asked = world.say("carol", button.command)  # what a click sends
    assert "waiting for 1 approval" in asked.text  # prod is protected: the click is not enough
    rid = waiting_id(asked.text)
    assert world.say("carol", f"approve {rid}").ok is False  # nobody approves their own
    assert "Started" in world.say("dave", f"approve {rid}").text
    assert world.until(rid, State.SUCCEEDED, State.FAILED).state is State.SUCCEEDED

    history = world.say("erin", "deploy history web prod").text
    [line] = [line for line in history.splitlines() if "web:1" in line]
    assert "✅" in line and "ecs" in line and f"by Carol Example · `{rid}`" in line
    assert f"{PAGES}/requests/{rid}" in history  # the request page, next to the AWS console


def test_the_environment_summary_has_alarms_deployments_incidents_holds_and_cost(world):
    assert world.say("carol", 'incident declare sev=2 title="Checkout errors"').ok
    assert world.say("bob", 'lock env=prod ttl=2h reason="database migration"').ok
    reply = world.say("erin", "env prod")
    assert reply.ok, reply.text
    parts = reply.text.split("\n\n")
    assert parts[0].splitlines()[1] == "2 alarms in ALARM:"
    assert parts[1].startswith("Deployments in flight:\n• ⏸") and "web/web-1.3.0.zip" in parts[1]
    assert parts[2].startswith("Open incidents:\n• 🚨 `inc-") and "Checkout errors" in parts[2]
    assert parts[3].splitlines()[:2] == ["Locks and freezes:", parts[3].splitlines()[1]]
    assert "🔒 locked by Bob Example" in parts[3] and "database migration" in parts[3]
    assert "change freeze" in parts[3]  # friday-evening comes round every week
    cost = parts[4].splitlines()
    assert cost[0].startswith("Month to date: $9,731.1")
    assert re.fullmatch(r"Budget prod-monthly \(monthly\): \$9,731\.15 of \$11,000\.00 \(88%\); forecast .*", cost[1])
    assert world.say("bob", "unlock env=prod").ok


def test_the_numbers_count_what_happened_here(world):
    world.say("alice", "rollback web prod --link https://github.com/acme/web/pull/1")  # developers: not in prod
    asked = world.say("bob", "restart web prod")
    assert world.say("dave", f"approve {waiting_id(asked.text)}").ok
    reply = world.say("carol", "stats 1d")
    assert reply.ok, reply.text
    assert re.search(r"by command: .*restart \d", reply.text) and re.search(r"by person: .*bob \d", reply.text)
    assert re.search(r"Refusals: \d+ — by rule: .*rbac.argument \d", reply.text)
    assert re.search(r"Time to approve: p50 \d+s, p90 \d+s \(\d+\)", reply.text)
    assert re.search(r"Incidents: \d+ — to acknowledge ", reply.text)
    refused = world.say("alice", "stats")  # a developer holds no `stats` permission
    assert not refused.ok and "stats" in refused.text


def test_opsgate_stats_prints_tables_and_json(world, tmp_path):
    url = world.app.settings.database_url
    env = {"OPSGATE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    table = subprocess.run([sys.executable, "-m", "opsgate.cli", "stats", "-c", str(EXAMPLE)], capture_output=True,
                           text=True, timeout=60, env=env)
    assert table.returncode == 0, table.stderr
    assert "time to approve" in table.stdout and "use by command and person" in table.stdout
    numbers = json.loads(subprocess.run([sys.executable, "-m", "opsgate.cli", "stats", "--json", "-c", str(EXAMPLE)],
                                        capture_output=True, text=True, timeout=60, env=env).stdout)
    assert numbers["percentile_method"] == "nearest-rank" and numbers["requests"] >= 5
    assert numbers["time_to_approve"]["p50_s"] <= numbers["time_to_approve"]["p90_s"]
    bad = subprocess.run([sys.executable, "-m", "opsgate.cli", "stats", "--since", "2026-03-02", "--until",
                          "2026-03-01", "-c", str(EXAMPLE)], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "must be before --until" in bad.stderr


def test_the_iam_policy_covers_the_new_reads():
    answer = subprocess.run([sys.executable, "-m", "opsgate.cli", "iam-policy", "-c", str(EXAMPLE), "--env", "prod"],
                            capture_output=True, text=True, timeout=60)
    granted = {(s["Action"], r) for s in json.loads(answer.stdout)["prod"]["policy"]["Statement"] for r in s["Resource"]}
    assert ("budgets:ViewBudget", "arn:aws:budgets::333333333333:budget/prod-monthly") in granted
    assert ("codepipeline:ListPipelineExecutions", "arn:aws:codepipeline:eu-west-1:333333333333:web-release") in granted
    assert ("codedeploy:BatchGetDeployments", "arn:aws:codedeploy:eu-west-1:333333333333:deploymentgroup:web/prod") in granted
    assert ("ecs:DescribeServices", "arn:aws:ecs:eu-west-1:333333333333:service/acme/web") in granted
