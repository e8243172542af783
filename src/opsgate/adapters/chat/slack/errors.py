"""Slack Web API failures → three kinds the delivery acts on, translated at this one edge.

RateLimited: wait `Retry-After` seconds. Undeliverable: this message can never be sent (the
channel is gone, the text is refused). Unavailable: anything else (network, 5xx, a revoked
token an operator will fix) — try again later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError, SlackClientError

from opsgate import metrics

DEFAULT_RETRY_AFTER_S = 30.0
# Errors about the message or its channel: sending the same thing again cannot succeed.
UNDELIVERABLE = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "invalid_blocks",
    "invalid_blocks_format", "too_many_attachments", "user_not_in_channel", "user_not_found",
    "message_not_found", "cant_update_message", "edit_window_closed", "restricted_action",
    "cannot_reply_to_message", "invalid_arguments", "messages_tab_disabled",
})


class SlackSendError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class RateLimited(SlackSendError):
    def __init__(self, error: str, retry_after_s: float) -> None:
        super().__init__(error)
        self.retry_after_s = retry_after_s


class Undeliverable(SlackSendError):
    pass


class Unavailable(SlackSendError):
    pass


@contextmanager
def map_slack_errors(method: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as err:
        response = err.response
        status = getattr(response, "status_code", 0)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            metrics.SLACK_ERRORS.labels(method, "ratelimited").inc()
            raise RateLimited(f"{method}: {error}", _retry_after(getattr(response, "headers", {}))) from None
        if error in UNDELIVERABLE:
            metrics.SLACK_ERRORS.labels(method, "undeliverable").inc()
            raise Undeliverable(error) from None
        metrics.SLACK_ERRORS.labels(method, "unavailable").inc()
        raise Unavailable(f"{method}: {error}") from None
    except (SlackClientError, OSError, json.JSONDecodeError) as err:  # network, timeouts, non-JSON answers
        metrics.SLACK_ERRORS.labels(method, "unavailable").inc()
        raise Unavailable(f"{method}: {type(err).__name__}: {err}") from None


def _retry_after(headers: dict) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value[0] if isinstance(value, list) else value), 1.0)
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER_S
