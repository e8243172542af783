"""The contracts the core needs from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from opsgate.domain.alert_context import LogQuery
from opsgate.domain.alert_groups import Acknowledgement, DeploymentRecord, StoredGroup
from opsgate.domain.alerts import Alert
from opsgate.domain.audit import AuditEntry, SealedRecord, VerifyResult
from opsgate.domain.catalog import ActionSpec, Environment
from opsgate.domain.incident import Incident, IncidentTimes, RoleHolder, TimelineEntry
from opsgate.domain.lock import Lock
from opsgate.domain.message import Button, Mention, Message
from opsgate.domain.request import ApprovalRecord, RequestRecord, State
from opsgate.domain.rooms import ChatMessage, InviteOutcome, OpenedRoom
from opsgate.domain.schedule import CheckState, Reminder, ReminderState
from opsgate.domain.silences import Silence


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message waiting to be sent to a chat platform. `payload` is the adapter's own JSON.

    Items with the same `order_key` (a request id, or a channel) are sent one after the other in
    the order they were added: an update is never sent before the message it updates.
    """

    platform: str
    order_key: str
    payload: dict[str, Any]
    id: int = 0  # set by the store
    attempts: int = 0
    turn_at: datetime | None = None  # the channel turn pacing held this item back for, if any


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where the chat message about one request is, so later news updates it in place."""

    channel: str
    ts: str  # the platform's message id (Slack: the message timestamp)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A received event as it arrived (SNS envelope, EventBridge event, webhook JSON), not yet
    interpreted. `source`: "sns", "eventbridge", "sqs" (SQS messages of another shape) or
    "webhook:<name>"; `external_id`: the sender's id for it (the idempotency key within `source`)."""

    id: int
    source: str
    external_id: str
    received_at: datetime
    body: dict[str, Any]


class EventTransaction(Protocol):
    """Received events: stored once by intake, then claimed and processed by the notification pipeline."""

    def event_add(self, source: str, external_id: str, body: dict[str, Any], now: datetime) -> bool:
        """Store a received event; False (nothing written) if (source, external_id) was stored before."""
        ...

    def events_add(self, received: Sequence[tuple[str, str, dict[str, Any]]], now: datetime) -> list[bool]:
        """`event_add` for many (source, external_id, body) at once: for each, True if written now
        (the first of the same id within `received` wins)."""
        ...

    def events_claim(self, now: datetime, *, limit: int, lease_s: float) -> list[StoredEvent]:
        """Claim up to `limit` unprocessed events, oldest first, that no other caller holds; they are
        leased for `lease_s` (rows locked SKIP LOCKED), then claimable again if not marked processed."""
        ...

    def event_processed(self, event_id: int, outcome: str, now: datetime) -> None:
        """Mark an event done with its outcome ("alert", "deployment", "generic", "error: ...").
        The row is kept (for statistics); the first outcome recorded stands."""
        ...

    def events_prune(self, received_before: datetime, *, limit: int) -> int:
        """Delete up to `limit` processed events received before `received_before`, oldest first;
        returns how many. Unprocessed events are never deleted."""
        ...

    def events_count(self, since: datetime, until: datetime) -> dict[str, int]:
        """Events received in [since, until), by source."""
        ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for reading the audit log page by page (None: any). Times are [since, until)."""

    person: str | None = None  # the indexed actor: a catalog person id, or platform:user_id
    command: str | None = None
    environment: str | None = None
    outcome: str | None = None
    event: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RequestQuery:
    states: tuple[State, ...] = ()
    requester_id: str | None = None
    command: str | None = None
    environment: str | None = None


class BrowseTransaction(Protocol):
    """Read-only queries for the pages and /metrics."""

    def audit_page(self, query: AuditQuery, *, before_seq: int | None = None, after_seq: int | None = None,
                   limit: int = 50) -> list[SealedRecord]:
        """Matching records, newest first: those below `before_seq`, or the `limit` just above
        `after_seq` (the page before), or the newest."""
        ...

    def request_page(self, query: RequestQuery, *, offset: int = 0, limit: int = 50) -> list[RequestRecord]:
        """Matching requests, newest first."""
        ...

    def request_counts(self, states: tuple[State, ...]) -> dict[tuple[str, str], int]:
        """How many requests of each command are in each of `states`, by (command, state); absent: none."""
        ...

    def outbox_counts(self) -> dict[tuple[str, str], int]:
        """Outbox items by (platform, state)."""
        ...


class SchedulesTransaction(Protocol):
    """The scheduler: its lease (one leader among replicas), scheduled checks' state, reminders."""

    def lease_acquire(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        """Take the lease, or renew it if `holder` has it; False while another holder's lease runs.
        One conditional upsert decides, so two replicas trying at once cannot both win."""
        ...

    def lease_release(self, name: str, holder: str) -> None:
        """Give the lease up if `holder` has it (a graceful stop: another replica takes over at once)."""
        ...

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds an unexpired lease, if anyone."""
        ...

    def check_state(self, name: str) -> CheckState | None: ...

    def check_state_save(self, state: CheckState, *, previous_fire_at: datetime | None) -> bool:
        """Write the state only if the stored `last_fire_at` is still `previous_fire_at` (None: no row
        yet); False when another process moved it first."""
        ...

    def reminder_add(self, reminder: Reminder) -> None: ...

    def reminder_get(self, reminder_id: str, *, for_update: bool = False) -> Reminder | None: ...

    def reminder_update(self, reminder: Reminder, *, expected_state: ReminderState) -> None:
        """Write `reminder` only if its stored state is still `expected_state`; else ConflictError."""
        ...

    def reminders_list(self, *, states: tuple[ReminderState, ...], created_by: str | None = None,
                       limit: int = 50) -> list[Reminder]:
        """Reminders in `states`, soonest due first."""
        ...

    def reminders_claim_due(self, now: datetime, *, limit: int, lease_s: float) -> list[Reminder]:
        """Claim up to `limit` reminders to deliver: pending and due, or sending whose claim ran out
        (the deliverer stopped mid-way). They move to SENDING, claimed for `lease_s`, one more
        attempt counted; rows are locked SKIP LOCKED, so no other replica claims them too."""
        ...



class IncidentTransaction(Protocol):
    """Incidents, who holds their roles, and their timelines (see domain/incident.py)."""

    def incident_next_number(self) -> int: ...

    def incident_insert(self, incident: Incident) -> bool:
        """False (nothing written) if its number was taken meanwhile: take the next one."""
        ...

    def incident_get(self, incident_id: str, *, for_update: bool = False) -> Incident | None: ...

    def incident_update(self, incident: Incident) -> None: ...

    def incident_in_room(self, channel: str, thread: str | None, *, open_only: bool = True) -> Incident | None:
        """The incident whose room this is: its dedicated channel (any thread in it), or its thread."""
        ...

    def incident_channel_known(self, channel: str) -> bool:
        """Whether any incident (open or not) has its room in this channel."""
        ...

    def incidents_list(self, *, open_only: bool = True, limit: int = 50) -> list[Incident]:
        """Newest first."""
        ...

    def incident_times(self, since: datetime, until: datetime) -> list[IncidentTimes]:
        """Declared, acknowledged, mitigated and resolved times of the incidents declared in [since, until)."""
        ...

    def incident_set_role(self, incident_id: str, holder: RoleHolder) -> None:
        """Give the role to the holder (replacing whoever held it)."""
        ...

    def incident_roles(self, incident_id: str) -> list[RoleHolder]: ...

    def incident_timeline_add(self, entry: TimelineEntry) -> bool:
        """False (nothing written) if an entry with the same `dedupe` key exists."""
        ...

    def incident_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Oldest first."""
        ...

    def incident_link_group(self, incident_id: str, group_id: str, person_id: str, now: datetime) -> bool:
        """Tie an alert group to an incident; False (nothing written) if it was tied already."""
        ...

    def incident_linked_groups(self, incident_ids: Collection[str]) -> dict[str, set[str]]:
        """The alert groups tied by hand to these incidents: group id → the incident ids."""
        ...


class DeliveryTransaction(Protocol):
    """Outbox queries for paced delivery (chat adapters)."""

    def outbox_defer(self, item_id: int, due: datetime) -> None:
        """Hold a claimed item back until `due`, its channel turn, without counting a failed attempt."""
        ...

    def pacing_next_free(self, platform: str, channel: str) -> datetime:
        """The channel's next free turn (long past for a channel never paced), locked until the
        transaction ends so every sender (replica, worker) takes turns from the same count."""
        ...

    def pacing_set(self, platform: str, channel: str, next_free: datetime) -> None:
        ...

    def outbox_next(self, platform: str, order_key: str, after_id: int) -> OutboxItem | None:
        """The pending item queued next after `after_id` under the same order key."""
        ...


class AlertsTransaction(Protocol):
    """Alert groups, silences, acknowledgements, deployment summaries and notification counts
    (core/notifications). Grouping reads and writes happen under `alerts_lock`."""

    def alerts_lock(self) -> None:
        """Serialise grouping with every other replica until this transaction ends."""
        ...

    def events_processed(self, outcomes: Mapping[str, Collection[int]], now: datetime) -> None:
        """Mark a batch of events processed: outcome → the ids of the events that had it."""
        ...

    def alert_groups_open(self, scopes: Collection[tuple[str, str, str]], alert_keys: Collection[str]) -> list[StoredGroup]:
        """Open groups whose (route, channel, group key) is in `scopes`, or holding one of `alert_keys`."""
        ...

    def alert_groups_due(self, now: datetime, *, limit: int) -> list[StoredGroup]:
        """Open groups whose timer has run out, oldest timer first."""
        ...

    def alert_groups_next_due_at(self) -> datetime | None: ...

    def alert_group_get(self, short_id: str) -> StoredGroup | None:
        """The group by its id (g-…), or the group holding the alert with that id (a-…)."""
        ...

    def alert_groups_recent(self, *, open_only: bool, limit: int) -> list[StoredGroup]:
        """Newest first (pages, `alerts`)."""
        ...

    def alert_incarnations(self, scopes: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        """The last incarnation of each (route, channel, group key) that has one."""
        ...

    def alerts_last_seen(self, alert_keys: Collection[str]) -> dict[str, datetime]:
        """When the latest state of each alert (in any group, open or ended) happened."""
        ...

    def alert_group_save(self, group: StoredGroup, alert_keys: Collection[str], now: datetime) -> None:
        """Write the group, and the alerts named: those in the group as they are, the others as
        having left it."""
        ...

    def alerts_acknowledged(self, acks: Collection[Acknowledgement]) -> None: ...

    def ack_waits_s(self, since: datetime, until: datetime) -> list[float]:
        """Seconds from firing to acknowledgement of the alerts acknowledged in [since, until)."""
        ...

    def silence_add(self, silence: Silence) -> None: ...

    def silence_get(self, silence_id: str) -> Silence | None: ...

    def silences_active(self, now: datetime) -> list[Silence]: ...

    def silence_end(self, silence_id: str, person_id: str, now: datetime) -> bool:
        """End an active silence; False if it had ended or expired already."""
        ...

    def silences_counted(self, counts: dict[str, int]) -> None:
        """Add to how many alerts each silence kept from being posted."""
        ...

    def deployment_put(self, record: DeploymentRecord, now: datetime) -> DeploymentRecord:
        """Store the summary of a deployment in a channel; one already stored for (key, channel)
        keeps its id (so its message is updated, not posted again) and gets the new body."""
        ...

    def deployment_get(self, deployment_id: str) -> DeploymentRecord | None:
        """A stored deployment summary by its id (`d-…`: its page)."""
        ...

    def notifications_counted(self, counts: dict[str, int], now: datetime) -> None:
        """Add to the hourly notification counters (events processed, alerts, messages, ...)."""
        ...

    def notification_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Counter totals of the hours starting in [since, until)."""
        ...


class StatsTransaction(Protocol):
    """The value numbers (core/stats.py): requests by command, person and state; approval waits."""

    def request_use(self, since: datetime, until: datetime) -> list[tuple[str, str, str, int]]:
        """(command, requester id, state, how many) of the requests made in [since, until)."""
        ...

    def approval_waits_s(self, since: datetime, until: datetime) -> list[float]:
        """Seconds from each request to the approval that completed its count, for requests whose
        approvals completed in [since, until)."""
        ...


class Transaction(EventTransaction, BrowseTransaction, SchedulesTransaction, IncidentTransaction, AlertsTransaction,
                  DeliveryTransaction, StatsTransaction, Protocol):
    """One database transaction. Everything written through it commits or rolls back together."""

    def claim_inbound(self, key: str, now: datetime) -> bool:
        """Record an idempotency key; False if it was seen before (the caller runs nothing)."""
        ...

    def inbound_reply(self, key: str) -> tuple[str | None, str | None]:
        """(reply text, request id) stored for a key seen before."""
        ...

    def save_inbound_reply(self, key: str, reply: str, request_id: str | None) -> None: ...

    def insert_request(self, record: RequestRecord) -> None: ...

    def get_request(self, request_id: str, *, for_update: bool = False) -> RequestRecord | None: ...

    def update_request(self, record: RequestRecord, *, expected_state: State) -> None:
        """Write `record` only if the stored state is still `expected_state`; else ConflictError."""
        ...

    def list_requests(
        self, *, states: tuple[State, ...] = (), requester_id: str | None = None, limit: int = 20
    ) -> list[RequestRecord]: ...

    def expiring_requests(self, now: datetime) -> list[RequestRecord]:
        """Pending requests whose `expires_at` has passed."""
        ...

    def count_requests(self, requester_id: str, command: str, since: datetime) -> int: ...

    def add_approval(self, approval: ApprovalRecord) -> None:
        """ConflictError if this person already approved this request."""
        ...

    def approvals(self, request_id: str) -> list[ApprovalRecord]: ...

    def append_audit(self, entry: AuditEntry, now: datetime) -> SealedRecord: ...

    def recent_audit(
        self, *, limit: int = 20, actor_id: str | None = None, request_id: str | None = None
    ) -> list[SealedRecord]: ...

    def active_lock(self, environment: str, now: datetime) -> Lock | None: ...

    def active_locks(self, now: datetime) -> list[Lock]: ...

    def put_lock(self, lock: Lock, now: datetime) -> None:
        """Take or renew; ConflictError if another person holds an active lock."""
        ...

    def delete_lock(self, environment: str) -> None: ...

    # -- chat outbox (durable delivery) and message refs ------------------------------------------

    def outbox_add(self, item: OutboxItem, now: datetime) -> int:
        """Queue an item, due now. Returns its id."""
        ...

    def outbox_due(self, platform: str, now: datetime, *, limit: int, lease_s: float) -> list[OutboxItem]:
        """Claim up to `limit` due items, oldest first, at most one per order key (the oldest unsent
        one of its key). Claimed items are leased for `lease_s`: no other caller, in this process
        or another replica, gets them until the lease runs out (rows are locked SKIP LOCKED)."""
        ...

    def outbox_done(self, item_id: int) -> None:
        """The item was sent: it is removed."""
        ...

    def outbox_retry_at(self, item_id: int, due: datetime, error: str) -> None:
        """Sending failed for now (rate limit, outage): try again at `due`; counts an attempt."""
        ...

    def outbox_give_up(self, item_id: int, error: str) -> None:
        """Sending can never succeed (channel gone, not allowed): kept for operators, never sent;
        later items of its order key go on."""
        ...

    def outbox_pending(self, platform: str) -> int:
        """How many items are waiting (not given up)."""
        ...

    def outbox_waiting(self, platform: str, order_keys: Collection[str]) -> set[str]:
        """Those of `order_keys` with an item still waiting to be sent (not given up)."""
        ...

    def message_ref_get(self, platform: str, request_id: str) -> MessageRef | None: ...

    def message_ref_put(self, platform: str, request_id: str, ref: MessageRef, now: datetime) -> None:
        """Remember (or move) the message about a request."""
        ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def reading(self) -> AbstractContextManager[Transaction]:
        """A read-only view that does not hold up writers."""
        ...

    def verify_audit(self) -> VerifyResult: ...

    def iter_audit(
        self, *, since: datetime | None = None, until: datetime | None = None, after_seq: int = 0
    ) -> Iterator[SealedRecord]: ...


class Directory(Protocol):
    """Group memberships from the chat platform (Slack user groups), cached by the adapter."""

    def group_ids(self, platform: str, user_id: str) -> frozenset[str]: ...


class Chat(Protocol):
    """Where notifications go (approval requests, outcomes). Replies go back through the adapter."""

    def post(self, message: Message) -> None: ...


class OutboxChat(Chat, Protocol):
    """A chat whose messages go through the store's outbox: `queue` writes in the caller's
    transaction, so a message is sent if and only if the change it reports is committed."""

    platform: str  # whose user ids mentions name ("slack")

    def queue(self, tx: Transaction, message: Message) -> None: ...

    def wake(self) -> None:
        """Something was queued and committed: send it now rather than at the next poll."""
        ...

    def still_queued(self, tx: Transaction, subjects: Collection[str]) -> set[str]:
        """Those of `subjects` (messages updated in place) with a message about them not yet sent."""
        ...


class IncidentRooms(Protocol):
    """Chat operations beyond messages, for incident rooms. Failures raise RoomUnavailable with a
    reason people can read; the core then falls back (a thread, or no room) and says so."""

    platform: str  # whose user and group ids it takes ("slack", "console")

    def create_channel(self, name: str, *, private: bool) -> OpenedRoom:
        """A new channel named `name` (or `name-2`, ... when taken), with opsgate in it."""
        ...

    def start_thread(self, channel: str, text: str, mentions: tuple[Mention, ...] = ()) -> str:
        """Post `text` in `channel` now, notifying `mentions`; returns the message id that replies
        thread under."""
        ...

    def invite(self, channel: str, user_ids: tuple[str, ...], group_ids: tuple[str, ...]) -> InviteOutcome:
        """Invite people, and the members of groups, to a channel opsgate created."""
        ...

    def fetch_message(self, channel: str, ts: str) -> ChatMessage | None:
        """A message of a channel (or of a thread in it), for the timeline; None if there is none."""
        ...

    def share_document(self, channel: str, thread: str | None, filename: str, title: str, text: str) -> None:
        """Share a text document (the postmortem draft) as a file in a channel or thread."""
        ...


@dataclass(frozen=True, slots=True)
class RunContext:
    request_id: str
    person_id: str
    environment: Environment | None
    dry_run: bool = False
    approvers: tuple[str, ...] = ()  # person ids that approved, for outputs that name them


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One call an action makes (or would make, in a dry run)."""

    api: str  # "lambda:Invoke", "builtin:echo"
    target: str  # ARN or name
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    ok: bool
    summary: str  # safe to show in chat
    output: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, str] = field(default_factory=dict)  # AWS request id, execution ARN
    # Long-running automation (a Step Functions execution, an SSM runbook, an ECS roll-out) returns
    # pending=True with a checkpoint; opsgate calls poll() with that checkpoint until it is done.
    pending: bool = False
    checkpoint: dict[str, Any] = field(default_factory=dict)
    progress: tuple[str, ...] = ()  # new progress lines since the last call, safe to show in chat
    buttons: tuple[Button, ...] = ()  # chat lines offered with the result (a runbook's commands)


class Automation(Protocol):
    """Runs a command's action. Implementations translate their own errors to AutomationError."""

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]: ...

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult: ...

    def poll(
        self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]
    ) -> RunResult:
        """Check on a pending run; returns pending=True again while it is not finished."""
        ...


@dataclass(frozen=True, slots=True)
class AlertAttachments:
    """What an alert's message shows besides its text: a chart and log lines, fetched when it fires."""

    chart_png: bytes | None = None  # the metric around the state change
    chart_title: str = ""
    log_lines: tuple[str, ...] = ()  # latest matching lines, safe to show (truncated, secrets masked)
    log_query_url: str = ""  # the query in the CloudWatch console
    problems: tuple[str, ...] = ()  # what could not be fetched and why (shown small, never a traceback)


class AlertContext(Protocol):
    def attachments(self, alert: Alert, log_query: LogQuery | None) -> AlertAttachments:
        """Fetch the chart (metric alarms) and the log lines (when `log_query` is given). Never
        raises for AWS trouble and never waits longer than its time budget: what failed is in `problems`."""
        ...


class AlertContextChat(Protocol):
    """A chat adapter that can show attachments under an alert's message (Slack: in its thread)."""

    def post_context(self, channel: str, message_key: str, attachments: AlertAttachments) -> None:
        """`message_key`: the key the alert's message was posted under (its outbox order key)."""
        ...
