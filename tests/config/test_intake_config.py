"""The catalog's `intake:` section → Catalog.intake; queue names, URLs and ARNs; the settings that
go with it (OPSGATE_SNS_*, OPSGATE_SQS_WAIT_S, OPSGATE_SERVE_JOBS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgate.config import load_catalog_text
from opsgate.config.intake import parse_queue
from opsgate.config.settings import resolve_settings
from opsgate.domain.intake import Intake, IntakeQueue, WebhookSource
from opsgate.errors import ConfigError

BASE = """\
version: 1
environments:
  - {name: prod, account: "222222222222", region: eu-west-1}
  - {name: dev, account: "111111111111", region: eu-central-1}
"""


def test_a_catalog_without_intake_accepts_nothing():
    assert load_catalog_text(BASE).intake == Intake()


def test_the_intake_section_becomes_the_catalogs_intake():
    catalog = load_catalog_text(BASE + """\
intake:
  sns:
    topics: [arn:aws:sns:eu-west-1:222222222222:opsgate-alerts, arn:aws-cn:sns:cn-north-1:333333333333:alerts.fifo]
  sqs:
    queues:
      - {environment: prod, queue: opsgate-events}
      - {environment: dev, queue: "https://sqs.us-east-1.amazonaws.com/444444444444/central-events"}
      - {environment: dev, queue: "arn:aws:sqs:eu-west-2:555555555555:health.fifo"}
  webhooks:
    - {name: grafana, secret_env: OPSGATE_WEBHOOK_GRAFANA}
""")
    assert catalog.intake == Intake(
        sns_topics=("arn:aws:sns:eu-west-1:222222222222:opsgate-alerts", "arn:aws-cn:sns:cn-north-1:333333333333:alerts.fifo"),
        queues=(IntakeQueue("prod", "opsgate-events"),
                IntakeQueue("dev", "central-events", account="444444444444", region="us-east-1"),
                IntakeQueue("dev", "health.fifo", account="555555555555", region="eu-west-2")),
        webhooks=(WebhookSource("grafana", "OPSGATE_WEBHOOK_GRAFANA"),),
    )
    assert catalog.intake.queues[0].label == "prod/opsgate-events"


@pytest.mark.parametrize("text, name, account, region", [
    ("opsgate-events", "opsgate-events", None, None),
    ("events.fifo", "events.fifo", None, None),
    ("https://sqs.eu-west-1.amazonaws.com/222222222222/opsgate-events", "opsgate-events", "222222222222", "eu-west-1"),
    ("https://sqs.cn-north-1.amazonaws.com.cn/222222222222/q", "q", "222222222222", "cn-north-1"),
    ("https://eu-west-1.queue.amazonaws.com/222222222222/legacy", "legacy", "222222222222", "eu-west-1"),
    ("arn:aws:sqs:us-gov-west-1:222222222222:gov", "gov", "222222222222", "us-gov-west-1"),
])
def test_a_queue_is_a_name_a_url_or_an_arn(text, name, account, region):
    queue = parse_queue(text)
    assert (queue.name, queue.account, queue.region) == (name, account, region)


@pytest.mark.parametrize("text", [
    "", "has space", "x" * 81, "http://sqs.eu-west-1.amazonaws.com/222222222222/q",
    "https://sqs.eu-west-1.amazonaws.com.evil.com/222222222222/q", "https://sqs.eu-west-1.amazonaws.com/2222/q",
    "https://sqs.eu-west-1.amazonaws.com/222222222222/q?x=1", "arn:aws:sns:eu-west-1:222222222222:topic",
    "arn:aws:sqs:eu-west-1:222222222222:bad/name",
])
def test_anything_else_is_not_a_queue(text):
    with pytest.raises(ValueError, match="must be a queue name"):
        parse_queue(text)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog_text(BASE + text)
    return caught.value.problems


def test_unknown_keys_in_intake_name_the_allowed_ones():
    assert problems("intake:\n  sns: {topic: x}\n") == [
        "opsgate.yaml:6 intake.sns.topic: unknown key; did you mean 'topics'? allowed keys: topics"]
    assert problems("intake:\n  kafka: {}\n") == [
        "opsgate.yaml:6 intake.kafka: unknown key; allowed keys: sns, sqs, webhooks"]


def test_a_secret_written_into_the_catalog_is_refused():
    found = problems("intake:\n  webhooks:\n    - {name: grafana, secret_env: OPSGATE_X, secret: hunter2hunter2}\n")
    assert found == ["opsgate.yaml:7 intake.webhooks[0].secret: unknown key; did you mean 'secret_env'? "
                     "allowed keys: name, secret_env"]
    assert "hunter2" not in "\n".join(found)  # the would-be secret is not echoed


def test_intake_must_be_a_mapping():
    assert problems("intake: [sns]\n") == ["opsgate.yaml:5 intake: must be a mapping of keys to values"]


# -- settings -------------------------------------------------------------------------------------

def settings(env: dict[str, str], tmp_path: Path):
    return resolve_settings(env, cwd=tmp_path)


def test_intake_settings_default_to_real_sns_and_long_polling(tmp_path):
    s = settings({}, tmp_path)
    assert (s.sns_cert_host_pattern, s.sns_ca_file, s.sns_max_age_s, s.sqs_wait_s, s.serve_jobs) == (None, None, 3600, 20, True)
    assert s.events_keep_days == 30


def test_intake_settings_are_read_from_the_environment(tmp_path):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = settings({"OPSGATE_SNS_CERT_HOST_PATTERN": r"127\.0\.0\.1:\d+", "OPSGATE_SNS_CA_FILE": "ca.pem",
                  "OPSGATE_SNS_MAX_AGE_S": "600", "OPSGATE_SQS_WAIT_S": "0", "OPSGATE_SERVE_JOBS": "0",
                  "OPSGATE_EVENTS_KEEP_DAYS": "90"}, tmp_path)
    assert (s.sns_cert_host_pattern, s.sns_ca_file, s.sns_max_age_s, s.sqs_wait_s, s.serve_jobs) == (
        r"127\.0\.0\.1:\d+", tmp_path / "ca.pem", 600, 0, False)
    assert s.events_keep_days == 90


def test_bad_intake_settings_are_all_reported(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings({"OPSGATE_SNS_CERT_HOST_PATTERN": "sns.(", "OPSGATE_SNS_CA_FILE": "missing.pem",
                  "OPSGATE_SNS_MAX_AGE_S": "10", "OPSGATE_SQS_WAIT_S": "21", "OPSGATE_SERVE_JOBS": "maybe",
                  "OPSGATE_EVENTS_KEEP_DAYS": "7"}, tmp_path)
    found = caught.value.problems
    assert [problem.split(":")[0] for problem in found] == [
        "OPSGATE_SNS_CERT_HOST_PATTERN", "OPSGATE_SNS_CA_FILE", "OPSGATE_SNS_MAX_AGE_S", "OPSGATE_SQS_WAIT_S",
        "OPSGATE_EVENTS_KEEP_DAYS", "OPSGATE_SERVE_JOBS"]
    assert "from 0 to 20 (got '21')" in found[3]
    assert "from 14 to 3660 (got '7')" in found[4]  # SQS may redeliver for 14 days


def test_the_example_catalog_accepts_its_alarm_topic_and_nothing_else():
    from opsgate.wiring import catalog_from

    example = catalog_from(Path(__file__).resolve().parents[2] / "examples" / "opsgate.yaml")
    assert example.intake == Intake(sns_topics=("arn:aws:sns:eu-west-1:333333333333:opsgate-alarms",))
