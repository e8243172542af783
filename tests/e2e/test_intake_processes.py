"""Intake as it runs: `opsgate worker` processes reading EventBridge events from SQS on moto (one
killed mid-run with SIGKILL), and `serve`'s wiring — signed SNS messages stored through the real
Slack server, background work on or off (OPSGATE_SERVE_JOBS)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.adapters.store import open_store
from opsgate.adapters.store.tables_events import events
from opsgate.config.settings import resolve_settings
from opsgate.web.server_thread import ServerThread
from opsgate.wiring import build_slack_server
from tests.adapters.intake.conftest import cert_server, pki  # noqa: F401  (fixtures)
from tests.adapters.intake.sns_pki import NOW, TOPIC, body, pem, signed_envelope

ACCOUNT, REGION = "123456789012", "eu-west-1"  # moto's default account
CATALOG = f"""
version: 1
environments:
  - {{name: prod, account: "{ACCOUNT}", region: {REGION}}}
intake:
  sns: {{topics: ["{TOPIC}"]}}
  sqs:
    queues:
      - {{environment: prod, queue: opsgate-events}}
"""
EVENTS = 200


def stored_ids(store) -> list[str]:
    with store.engine.connect() as conn:
        return [row.external_id for row in conn.execute(events.select().order_by(events.c.id))]


def waiting(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "opsgate.cli", "worker"], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def test_a_worker_killed_mid_run_loses_nothing_and_stores_nothing_twice(tmp_path, database_url, aws_endpoint):
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=aws_endpoint)
    url = sqs.create_queue(QueueName="opsgate-events", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    ids = [f"event-{n:04d}" for n in range(EVENTS)]
    for start in range(0, EVENTS, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"version": "0", "id": event_id, "detail-type": "Test Event",
                                                      "source": "acme.test", "detail": {"n": start + i}})}
            for i, event_id in enumerate(ids[start:start + 10])])
    env = {"OPSGATE_CONFIG": str(tmp_path / "opsgate.yaml"), "OPSGATE_DATABASE_URL": database_url,
           "OPSGATE_AWS_ENDPOINT_URL": aws_endpoint, "OPSGATE_SQS_WAIT_S": "1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    store = open_store(database_url)  # migrated here: the workers start on an upgraded schema
    log = tmp_path / "worker.log"
    try:
        first = start_worker(env, log)
        until(lambda: len(stored_ids(store)) >= 20, 60, "the first worker to store some events")
        first.send_signal(signal.SIGKILL)  # no clean-up: a batch may be stored and not deleted
        first.wait(10)
        assert len(stored_ids(store)) < EVENTS  # killed part-way through the queue
        second, third = start_worker(env, log), start_worker(env, log)  # several workers on one queue
        until(lambda: waiting(sqs, url) == 0, 90, "the queue to be emptied")
        for worker in (second, third):
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(30) for worker in (second, third)] == [0, 0], log.read_text()[-2000:]
        stored = stored_ids(store)
        assert sorted(stored) == ids  # every event, each once
    finally:
        for worker in ("first", "second", "third"):
            process = locals().get(worker)
            if process is not None and process.poll() is None:
                process.kill()
        store.close()
    assert "Traceback" not in log.read_text()


def test_a_worker_with_a_broken_catalog_says_what_is_wrong(tmp_path):
    (tmp_path / "opsgate.yaml").write_text(CATALOG.replace("environment: prod", "environment: production"))
    done = subprocess.run([sys.executable, "-m", "opsgate.cli", "worker", "--config", str(tmp_path / "opsgate.yaml")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "OPSGATE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert "intake.sqs.queues[0].environment: unknown environment 'production'" in done.stderr


# -- `serve` ---------------------------------------------------------------------------------------

@pytest.fixture
def slack_api():
    api = LocalSlackApi().start()
    yield api
    api.stop()


def serve_settings(tmp_path, database_url: str, slack_api, pki, **extra: str):  # noqa: F811
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    (tmp_path / "ca.pem").write_bytes(pem(pki.ca))
    env = {"OPSGATE_DATABASE_URL": database_url, "OPSGATE_SLACK_SIGNING_SECRET": "s" * 32,
           "OPSGATE_SLACK_BOT_TOKEN": "xoxb-test", "OPSGATE_SLACK_API_URL": slack_api.base_url,
           "OPSGATE_SNS_CERT_HOST_PATTERN": r"127\.0\.0\.1:\d+", "OPSGATE_SNS_CA_FILE": "ca.pem",
           "OPSGATE_AWS_ENDPOINT_URL": "http://127.0.0.1:9", **extra}
    return resolve_settings(env, config=tmp_path / "opsgate.yaml", cwd=tmp_path)


def test_serve_stores_signed_sns_messages_and_wakes_event_processing(tmp_path, database_url, slack_api, pki,  # noqa: F811
                                                                     cert_server):  # noqa: F811
    from opsgate.testing import FakeClock

    served = build_slack_server(serve_settings(tmp_path, database_url, slack_api, pki, OPSGATE_SERVE_JOBS="0"),
                                clock=FakeClock(NOW))
    woken = []
    served.app.on_event_stored = lambda: woken.append(1)  # where event processing hooks in
    server = ServerThread(served.asgi).start()
    try:
        envelope = signed_envelope(pki.signing_key, cert_server.url())
        answer = httpx.post(f"{server.url}/events/sns", content=body(envelope),
                            headers={"x-amz-sns-message-type": "Notification"}, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"ok": True, "stored": True}
        assert stored_ids(served.app.store) == [envelope["MessageId"]]
        assert woken == [1]
        assert httpx.post(f"{server.url}/events/webhook/grafana", content=b"{}", timeout=10).status_code == 404
    finally:
        server.stop()


@pytest.mark.parametrize("jobs, expected_services", [("1", 1), ("0", 0)])
def test_serve_runs_the_background_work_unless_told_not_to(tmp_path, database_url, slack_api, pki,  # noqa: F811
                                                           jobs, expected_services):
    served = build_slack_server(serve_settings(tmp_path, database_url, slack_api, pki, OPSGATE_SERVE_JOBS=jobs))
    try:
        worker = served.app.worker
        assert len(worker.services) == expected_services  # the intake queue reader
        assert bool(worker.jobs) is (jobs == "1")
    finally:
        served.app.close()
