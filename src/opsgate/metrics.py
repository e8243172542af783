"""Prometheus metrics of one opsgate process, on one registry that /metrics exposes.

Each metric is a module-level object: parts that count import it and call `.labels(...).inc()`.
Label values come from fixed sets (reason codes, configured names), never from request input, so
a hostile sender cannot create series.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

# -- intake ---------------------------------------------------------------------------------------

INTAKE_EVENTS = Counter(
    "opsgate_intake_events_total",
    "Deliveries received by intake, by source (sns, eventbridge, sqs, webhook:<name>, webhook for an "
    "unknown name) and result (stored, duplicate, or the reason it was refused).",
    ["source", "result"],
    registry=REGISTRY,
)
SNS_SUBSCRIPTIONS = Counter(
    "opsgate_sns_subscriptions_total",
    "SNS subscription and unsubscribe confirmations, by type and result (confirmed, confirm_failed, "
    "acknowledged, or the reason it was refused).",
    ["type", "result"],
    registry=REGISTRY,
)
INTAKE_QUEUE_ERRORS = Counter(
    "opsgate_intake_queue_errors_total",
    "Failed SQS calls of the intake worker, by configured queue (environment/queue).",
    ["queue"],
    registry=REGISTRY,
)

# -- requests, chat and AWS (docs/pages.md lists them all) ------------------------------------------
# Request outcomes, pending approvals and the outbox depth are read from the database at scrape
# time (opsgate.metrics_db), so they are right whichever process or replica did the work.

LINES = Counter(
    "opsgate_lines_total",
    "Chat lines and button clicks the dispatcher handled, by platform and result (ok, refused).",
    ["platform", "result"],
    registry=REGISTRY,
)
LINE_SECONDS = Histogram(
    "opsgate_line_seconds",
    "Time the dispatcher took to answer one line (decide, record, and run what runs at once).",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
DECISION_SECONDS = Histogram(
    "opsgate_decision_seconds",
    "Time from a request to the decision on it by people, for requests that waited for an approval or a "
    "typed confirmation, by what it became (approved, denied, expired, cancelled).",
    ["outcome"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "opsgate_messages_sent_total",
    "Chat messages sent (posted, updated in place, or answered to one person), by platform.",
    ["platform"],
    registry=REGISTRY,
)
AWS_ERRORS = Counter(
    "opsgate_aws_errors_total",
    "AWS calls that failed after botocore's retries, by service and kind (access_denied, credentials, "
    "throttled, not_found, server, refused, timeout, unreachable, invalid, other).",
    ["service", "kind"],
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "opsgate_slack_errors_total",
    "Failed Slack Web API calls, by method and kind (ratelimited, undeliverable, unavailable).",
    ["method", "kind"],
    registry=REGISTRY,
)
SIGNIN_REFUSED = Counter(
    "opsgate_web_signin_refused_total",
    "Page requests refused at sign-in, by reason (no_signin, bad_token, alb_token, unknown_person).",
    ["reason"],
    registry=REGISTRY,
)
