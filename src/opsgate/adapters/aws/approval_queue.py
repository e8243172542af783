"""Reads each environment's approval queue (SQS) and turns messages into opsgate approval requests.

Two kinds of message arrive: a Step Functions `.waitForTaskToken` step's own message
(`{"taskToken", "request_id", "step", "summary"}`) and a CodePipeline manual-approval notification
(SNS JSON, raw or wrapped in an SNS envelope). A message is deleted only after its request (or its
rejection record) is stored, so a crash redelivers it; the SQS message id is the idempotency key,
so a redelivery never opens a second request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.session import SessionFactory
from opsgate.core.workflow import AutomationApprovals, PipelineApproval, StepRequest
from opsgate.domain.catalog import Environment
from opsgate.errors import AutomationError
from opsgate.ports import RunContext

log = logging.getLogger("opsgate.approval_queue")
MAX_BODY_BYTES = 256 * 1024  # SQS's own limit; anything larger is not from SQS


def parse_message(body: str, environment: str, message_id: str) -> StepRequest | PipelineApproval:
    """Raise ValueError saying what is wrong when the body is not an approval request."""
    if len(body.encode()) > MAX_BODY_BYTES:
        raise ValueError("message is larger than 256 KiB")
    data = _json_object(body, "the message")
    if data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        data = _json_object(data["Message"], "the SNS message")  # SNS → SQS without raw delivery
    if "taskToken" in data:
        token = data["taskToken"]
        if not isinstance(token, str) or not token or len(token) > 8192:
            raise ValueError("taskToken must be a non-empty string of at most 8192 characters")
        return StepRequest(
            message_id=message_id, environment=environment, token=token,
            step=_text(data.get("step"), "step", default="approval", limit=200),
            summary=_text(data.get("summary"), "summary", default="", limit=2000),
            parent_request_id=_text(data.get("request_id"), "request_id", default="", limit=64) or None,
        )
    approval = data.get("approval")
    if isinstance(approval, dict):
        return PipelineApproval(
            message_id=message_id, environment=environment,
            pipeline=_text(approval.get("pipelineName"), "approval.pipelineName", limit=100),
            stage=_text(approval.get("stageName"), "approval.stageName", limit=100),
            action=_text(approval.get("actionName"), "approval.actionName", limit=100),
            summary=_text(approval.get("customData"), "approval.customData", default="", limit=2000),
        )
    raise ValueError("neither a Step Functions task token message nor a CodePipeline approval notification")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object")
    return data


def _text(value: Any, name: str, *, default: str | None = None, limit: int) -> str:
    if value is None or value == "":
        if default is None:
            raise ValueError(f"{name} is missing")
        return default
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value[:limit]


class ApprovalQueueReader:
    def __init__(self, sessions: SessionFactory, environments: list[Environment], approvals: AutomationApprovals) -> None:
        self.sessions = sessions
        self.environments = [e for e in environments if e.approval_queue]
        self.approvals = approvals
        self._urls: dict[str, str] = {}

    def poll_once(self, wait_s: int = 0) -> int:
        """Read up to 10 messages from each queue; returns how many were handled."""
        handled = 0
        for env in self.environments:
            try:
                handled += self._poll(env, wait_s)
            except AutomationError as err:
                log.warning("approval queue unavailable", extra={"environment": env.name, "error": err.message})
        return handled

    def _poll(self, env: Environment, wait_s: int) -> int:
        sqs = self.sessions.client("sqs", env, RunContext(request_id="approval-queue", person_id="opsgate", environment=env))
        with map_boto_errors(service="sqs", role_arn=env.role_arn, resource=env.approval_queue):
            url = self._urls.get(env.name) or sqs.get_queue_url(QueueName=env.approval_queue)["QueueUrl"]
            self._urls[env.name] = url
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
        messages = answer.get("Messages", [])
        for message in messages:
            self._handle(env, message)
            with map_boto_errors(service="sqs", role_arn=env.role_arn, resource=env.approval_queue):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _handle(self, env: Environment, message: dict[str, Any]) -> None:
        message_id = message.get("MessageId", "")
        try:
            request = parse_message(message.get("Body", ""), env.name, message_id)
        except ValueError as problem:
            self.approvals.reject(message_id, env.name, str(problem))
            return
        if isinstance(request, StepRequest):
            self.approvals.ask_step(request)
        else:
            self.approvals.ask_pipeline(request)
