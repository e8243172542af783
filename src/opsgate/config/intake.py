"""The catalog's `intake:` section: which SNS topics, SQS queues and webhooks opsgate accepts
events from. Shapes here; the references to environments are checked in `build_intake`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from opsgate.config.problems import YamlPath
from opsgate.domain.intake import Intake, IntakeQueue, WebhookSource

if TYPE_CHECKING:  # context imports models, which import this module
    from opsgate.config.context import CatalogContext

_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}(\.fifo)?")
_QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+):(?P<account>[0-9]{12}):(?P<name>[^:/]+)")
# https://sqs.<region>.amazonaws.com/<account>/<name> (also .com.cn, and the legacy <region>.queue.amazonaws.com)
_QUEUE_URL = re.compile(
    r"https://(sqs\.(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+)\.amazonaws\.com(\.cn)?"
    r"|(?P<legacy>[a-z]{2}(-[a-z]+)+-[0-9]+)\.queue\.amazonaws\.com(\.cn)?)"
    r"/(?P<account>[0-9]{12})/(?P<name>[^/?#]+)"
)
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_ENV_VAR = re.compile(r"[A-Z][A-Z0-9_]*")
QUEUE_FORMS = ("a queue name (opsgate-events), a queue URL (https://sqs.eu-west-1.amazonaws.com/111111111111/"
               "opsgate-events) or a queue ARN (arn:aws:sqs:eu-west-1:111111111111:opsgate-events)")


def _check_topic(value: str) -> str:
    if not _TOPIC_ARN.fullmatch(value):
        raise ValueError(f"must be an SNS topic ARN such as arn:aws:sns:eu-west-1:111111111111:opsgate-alerts (got {value!r})")
    return value


def parse_queue(value: str) -> IntakeQueue:
    """(name, account, region) of a queue given by name, URL or ARN; the environment is filled in later."""
    if _QUEUE_NAME.fullmatch(value):
        return IntakeQueue(environment="", name=value)
    found = _QUEUE_ARN.fullmatch(value) or _QUEUE_URL.fullmatch(value)
    if found is None or not _QUEUE_NAME.fullmatch(found["name"]):
        raise ValueError(f"must be {QUEUE_FORMS} (got {value!r})")
    region = found["region"] if found["region"] else found.groupdict().get("legacy")
    return IntakeQueue(environment="", name=found["name"], account=found["account"], region=region)


def _check_queue(value: str) -> str:
    parse_queue(value)
    return value


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be lowercase letters, digits and '-', starting with a letter (got {value!r})")
    return value


def _check_env_var(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        raise ValueError(f"must be the name of an environment variable: capital letters, digits and '_', "
                         f"starting with a letter, like OPSGATE_WEBHOOK_GRAFANA (got {value!r}); "
                         "the secret itself never goes in this file")
    return value


TopicArn = Annotated[str, AfterValidator(_check_topic), Field(examples=["arn:aws:sns:eu-west-1:111111111111:opsgate-alerts"])]
QueueRef = Annotated[str, AfterValidator(_check_queue), Field(examples=["opsgate-events"])]
WebhookName = Annotated[str, AfterValidator(_check_name), Field(examples=["grafana"])]
EnvVarName = Annotated[str, AfterValidator(_check_env_var), Field(examples=["OPSGATE_WEBHOOK_GRAFANA"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SnsIntakeModel(_Strict):
    topics: list[TopicArn] = Field([], description="Topic ARNs whose messages POST /events/sns accepts and whose "
                                                  "subscription confirmations it answers; any other topic is refused.")


class QueueModel(_Strict):
    environment: str = Field(description="The environment whose role reads the queue (and whose account and "
                                         "region a bare queue name is in).")
    queue: QueueRef = Field(description="Queue name, URL or ARN (a URL or ARN may name another account or region).")


class SqsIntakeModel(_Strict):
    queues: list[QueueModel] = Field([], description="SQS queues `opsgate worker` reads events from "
                                                     "(EventBridge rules, SNS subscriptions).")


class WebhookModel(_Strict):
    name: WebhookName = Field(description="POST /events/webhook/<name>.")
    secret_env: EnvVarName = Field(description="Environment variable holding the HMAC secret (at least 16 characters; "
                                               "two separated by a comma while rotating).")


class IntakeModel(_Strict):
    """Where events come in from. Nothing is accepted from a source not listed here."""

    sns: SnsIntakeModel = SnsIntakeModel()
    sqs: SqsIntakeModel = SqsIntakeModel()
    webhooks: list[WebhookModel] = []


def build_intake(model: IntakeModel, path: YamlPath, ctx: CatalogContext) -> Intake:
    """The Intake; reports unknown environments and anything declared twice."""
    problems = ctx.problems
    problems.report_duplicates(((path + ("sns", "topics", i), t) for i, t in enumerate(model.sns.topics)), "topic")
    problems.report_duplicates(((path + ("webhooks", i, "name"), w.name) for i, w in enumerate(model.webhooks)), "webhook")
    problems.report_duplicates(((path + ("sqs", "queues", i, "queue"), f"{q.environment}/{q.queue}")
                                for i, q in enumerate(model.sqs.queues)), "queue")
    queues = []
    for index, item in enumerate(model.sqs.queues):
        ctx.check_reference(path + ("sqs", "queues", index, "environment"), "environment", item.environment)
        where = parse_queue(item.queue)
        queues.append(IntakeQueue(environment=item.environment, name=where.name, account=where.account, region=where.region))
    return Intake(sns_topics=tuple(model.sns.topics), queues=tuple(queues),
                  webhooks=tuple(WebhookSource(name=w.name, secret_env=w.secret_env) for w in model.webhooks))
