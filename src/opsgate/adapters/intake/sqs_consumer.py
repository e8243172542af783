"""Reading events (EventBridge, SNS, anything) from SQS queues into the store.

Per queue: receive up to 10 messages with long polling, store them in one transaction, and only
then delete them (one DeleteMessageBatch). A process that dies in between leaves the messages in
the queue; they come back after the visibility timeout and are stored once, because the store
keeps one row per sender id (EventBridge event id, SNS MessageId, else the SQS MessageId). Several
workers may read one queue: SQS hides a received message from the others while it is in flight.
A message that is not JSON is stored as it is (a generic event), never left to loop forever.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from opsgate import log_context
from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.intake.json_body import NotAJsonObject, json_object
from opsgate.adapters.intake.recorder import EventRecorder, Received
from opsgate.domain.catalog import Environment
from opsgate.domain.intake import IntakeQueue
from opsgate.errors import OpsgateError
from opsgate.metrics import INTAKE_QUEUE_ERRORS
from opsgate.ports import RunContext

log = logging.getLogger("opsgate.intake.sqs")

BATCH = 10  # SQS's maximum per ReceiveMessage and per DeleteMessageBatch
_MAX_ID_CHARS = 200


def received_from_sqs(message: dict[str, Any]) -> Received:
    """The event in an SQS message, keyed by the id its sender gave it."""
    message_id = str(message.get("MessageId", ""))
    text = message.get("Body", "")
    try:
        data = json_object(text)
    except NotAJsonObject as problem:
        return Received("sqs", message_id, {"body": text, "problem": f"the SQS message {problem}"})
    if _id(data, "id") and "detail-type" in data and "source" in data:
        return Received("eventbridge", data["id"], data)
    if data.get("Type") == "Notification" and _id(data, "MessageId") and "TopicArn" in data:
        return Received("sns", data["MessageId"], data)  # SNS → SQS without raw delivery
    return Received("sqs", message_id, data)


def _id(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID_CHARS


class QueueReader:
    """One configured queue, read with its environment's credentials."""

    def __init__(self, queue: IntakeQueue, environment: Environment, sessions: SessionFactory, recorder: EventRecorder,
                 *, wait_s: int = 20) -> None:
        self.queue = queue
        self.environment = environment
        self.sessions = sessions
        self.recorder = recorder
        self.wait_s = wait_s
        self._url: str | None = None

    def poll_once(self) -> int:
        """Receive one batch (waiting up to wait_s), store it, delete it; how many messages came."""
        sqs = self._client()
        with self._aws_errors():
            url = self._url or self._queue_url(sqs)
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=self.wait_s)
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        # Stored (or found stored before) first; deleted only once that has committed.
        self.recorder.record([received_from_sqs(message) for message in messages])
        with self._aws_errors():
            result = sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)
            ])
        for failure in result.get("Failed", []):  # it comes back after the visibility timeout and is a duplicate then
            log.warning("could not delete a stored message", extra={"queue": self.queue.label,
                                                                    "code": failure.get("Code", "")})
        return len(messages)

    def _client(self) -> Any:
        ctx = RunContext(request_id="intake", person_id="opsgate", environment=self.environment)
        return self.sessions.client("sqs", self.environment, ctx, region=self.queue.region)

    def _queue_url(self, sqs: Any) -> str:
        lookup: dict[str, str] = {"QueueName": self.queue.name}
        if self.queue.account and self.queue.account != self.environment.account:
            lookup["QueueOwnerAWSAccountId"] = self.queue.account
        self._url = sqs.get_queue_url(**lookup)["QueueUrl"]
        return self._url

    def _aws_errors(self) -> Any:
        return map_boto_errors(service="sqs", role_arn=self.environment.role_arn, resource=self.queue.label)


class QueueConsumers:
    """A thread per queue, polling until stopped. A failing queue (access denied, database away)
    is logged, counted and tried again after `backoff_s`; it never stops the others."""

    def __init__(self, readers: list[QueueReader], *, backoff_s: float = 5.0, idle_s: float = 1.0) -> None:
        self.readers = readers
        self.backoff_s = backoff_s
        self.idle_s = idle_s  # between empty receives when long polling is off (wait_s=0)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._loop, args=(reader,), name=f"opsgate-sqs-{reader.queue.label}",
                                          daemon=True) for reader in self.readers]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 40.0) -> None:
        """Let each thread finish its batch (store, delete), then end; a long poll may take wait_s."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def _loop(self, reader: QueueReader) -> None:
        with log_context.bound(job="intake-queue", queue=reader.queue.label):
            self._poll(reader)

    def _poll(self, reader: QueueReader) -> None:
        while not self._stop.is_set():
            try:
                received = reader.poll_once()
            except Exception as err:  # the messages stay in the queue: nothing is lost by waiting
                INTAKE_QUEUE_ERRORS.labels(reader.queue.label).inc()
                expected = isinstance(err, (OpsgateError, OSError))  # AWS refused, database away: no traceback
                log.warning("reading an intake queue failed", exc_info=not expected,
                            extra={"queue": reader.queue.label, "error": str(err)})
                self._stop.wait(self.backoff_s)
                continue
            if received == 0 and reader.wait_s == 0:
                self._stop.wait(self.idle_s)
