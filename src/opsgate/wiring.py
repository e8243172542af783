"""Composition root: settings → catalog → adapters → dispatcher. Nothing else constructs adapters."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from collections.abc import Callable
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsgate.adapters import builtin_actions
from opsgate.adapters.aws.approval_queue import ApprovalQueueReader
from opsgate.adapters.aws.alert_context import AwsAlertContext
from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.registry import INTERNAL_KINDS, all_targets
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.store import SqlStore, open_store
from opsgate.clock import SystemClock
from opsgate.config import load_catalog
from opsgate.config.actions import DEFAULT_ACTION_KINDS, ActionValidator, summary_validator
from opsgate.config.runbooks import validate_runbook_search
from opsgate.config.settings import Settings
from opsgate.core.automation import SUMMARY, AutomationRouter
from opsgate.core.deploy_history import DEPLOYMENTS, DeploymentHistory, with_records
from opsgate.core.dispatcher import Dispatcher
from opsgate.core.env_state import HOLDS, INCIDENTS, EnvironmentHolds, OpenIncidents, no_settings
from opsgate.core.follow import Follower
from opsgate.core.leadership import Leadership
from opsgate.core.notifications.context_step import AlarmContextStep
from opsgate.core.notifications.flushing import GroupFlusher
from opsgate.core.notifications.pipeline import EventProcessor, NotificationPipeline
from opsgate.core.notifications.retention import EventRetention
from opsgate.core.reminders import ReminderDelivery
from opsgate.core.runbooks import RUNBOOK_SEARCH, RunbookSearch
from opsgate.core.schedules import ScheduledChecks
from opsgate.core.builtins import builtin_commands
from opsgate.core.workflow import AutomationApprovals, internal_commands
from opsgate.domain.catalog import Catalog, Command
from opsgate.domain.pages import PageLinks
from opsgate.errors import ConfigError
from opsgate.metering import MeteredStore, counted_lines
from opsgate.ports import AlertContextChat, Automation, Chat, Clock, Directory, IncidentRooms, Store
from opsgate.worker import Job, Worker


def action_validators() -> dict[str, ActionValidator]:
    """The settings check of every action kind a catalog may declare."""
    validators: dict[str, ActionValidator] = dict(DEFAULT_ACTION_KINDS)
    validators.update({t.kind: t.validate for t in all_targets() if t.kind not in INTERNAL_KINDS})
    validators[DEPLOYMENTS] = with_records(validators[DEPLOYMENTS])  # its services' `commands` are opsgate's part
    validators.update({kind: no_settings(kind) for kind in (HOLDS, INCIDENTS)})
    validators[RUNBOOK_SEARCH] = validate_runbook_search
    validators[SUMMARY] = summary_validator(dict(validators))
    return validators


def catalog_from(path: Path) -> Catalog:
    return load_catalog(path, action_validators=action_validators())


def aws_sessions(settings: Settings, sandbox: Any = None) -> SessionFactory:
    """Real AWS (default credential chain, then each environment's role), or the sandbox with the
    credentials it made: never whatever AWS keys happen to be in the process environment."""
    if sandbox is None:
        return SessionFactory(endpoint_url=settings.aws_endpoint_url)
    import boto3

    base = boto3.session.Session(aws_access_key_id=sandbox.credentials.access_key_id,
                                 aws_secret_access_key=sandbox.credentials.secret_access_key,
                                 region_name=sandbox.region)
    return SessionFactory(endpoint_url=sandbox.endpoint_url, base_session=base)


def quick_sessions(sessions: SessionFactory, *, read_timeout_s: float) -> SessionFactory:
    """`sessions` with short timeouts and one retry, for work someone waits on (a page, an alarm's
    chart): the time budget cannot cut one hanging AWS call short."""
    return SessionFactory(endpoint_url=sessions.endpoint_url, base_session=sessions.base, connect_timeout_s=3,
                          read_timeout_s=read_timeout_s, max_attempts=2)


def automation(sessions: SessionFactory) -> AutomationRouter:
    aws = AwsAutomation(all_targets(), sessions)
    return AutomationRouter({"builtin": builtin_actions.BuiltinActions(), **{kind: aws for kind in aws.kinds}})


def opsgate_reads(aws: Automation, store: SqlStore, catalog: Catalog, clock: Clock,
                  base_url: str | None) -> dict[str, Automation]:
    """Read kinds that need opsgate's own records: deployments (AWS merged with requests), holds, incidents."""
    return {DEPLOYMENTS: DeploymentHistory(aws, store, catalog, PageLinks(base_url)),
            HOLDS: EnvironmentHolds(store, clock), INCIDENTS: OpenIncidents(store, clock)}


@dataclass
class App:
    settings: Settings
    catalog: Catalog
    store: SqlStore
    dispatcher: Dispatcher
    worker: Worker
    sessions: SessionFactory
    sandbox: Any = None  # opsgate.sandbox.Sandbox when the in-process AWS emulator runs
    # Called after intake stored new events (HTTP or SQS): the event processing's wake-up.
    on_event_stored: Callable[[], None] = field(default=lambda: None)

    def close(self) -> None:
        self.worker.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.store.close()


def build(settings: Settings, chat: Chat, *, clock: Clock | None = None, migrate: bool = True,
          store: SqlStore | None = None, directory: Directory | None = None, background: bool = True,
          rooms: IncidentRooms | None = None, context_chat: AlertContextChat | None = None) -> App:
    """`store`: one the caller opened already (the Slack chat writes its outbox there too).
    `background=False`: no background jobs nor intake queues (`serve` with OPSGATE_SERVE_JOBS=0)."""
    catalog = catalog_from(settings.config_path)
    sandbox = _start_sandbox() if settings.sandbox else None
    store = store or open_store(settings.database_url, migrate=migrate)
    sessions = aws_sessions(settings, sandbox)
    clock = clock or SystemClock()
    router = automation(sessions)
    router.targets.update(opsgate_reads(router.targets[DEPLOYMENTS], store, catalog, clock, settings.base_url))
    router.targets[RUNBOOK_SEARCH] = RunbookSearch(catalog.runbooks, settings.base_url)
    # The dispatcher's store is metered: decisions on requests are timed once committed (/metrics).
    dispatcher = Dispatcher(catalog, MeteredStore(store), router, chat, clock, directory, rooms)
    dispatcher.rt.pages = PageLinks(settings.base_url)  # incident timelines and drafts link the pages
    worker = background_jobs(dispatcher, sessions, settings, context_chat) if background else Worker([])
    app = App(settings, catalog, store, dispatcher, worker, sessions, sandbox)
    if background:
        app.on_event_stored = lambda: worker.run_soon(NOTIFY_EVENTS)
    if background and catalog.intake.queues:
        worker.services.append(intake_queues(app, dispatcher.rt.clock))
    return app


def background_jobs(dispatcher: Dispatcher, sessions: SessionFactory, settings: Settings,
                    context_chat: AlertContextChat | None = None) -> Worker:
    """Expiry, following running automation, reading approval queues, scheduled checks, reminders
    (started by the caller). Singleton jobs run only in the replica holding the scheduler lease:
    following (two would post the same progress twice), scheduled checks and reminders. Expiry
    (conditional updates) and approval queues (SQS hands each message to one reader, and each
    opens its request under an idempotency key) are safe on every replica."""
    follower = Follower(dispatcher.lifecycle)
    approvals = AutomationApprovals(dispatcher.lifecycle, settings.default_channel)
    queues = ApprovalQueueReader(sessions, list(dispatcher.catalog.environments.values()), approvals)
    rt = dispatcher.rt
    leadership = Leadership(rt.store, rt.clock, f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")
    return Worker([
        Job("expire", dispatcher.lifecycle.expire_due, interval_s=15),
        Job("follow", follower.follow_running, interval_s=2, singleton=True),
        Job("approval-queues", queues.poll_once, interval_s=2),
        Job("schedules", ScheduledChecks(dispatcher).run_due, interval_s=5, singleton=True),
        Job("reminders", ReminderDelivery(rt).deliver_due, interval_s=5, singleton=True),
        *notification_jobs(dispatcher, sessions, settings, context_chat),
    ], leadership)


NOTIFY_EVENTS = "notify-events"
# Woken by intake, event processing starts at once when it has been idle, else this long after its
# last start: each run takes what arrived meanwhile (a run reads every open group once, whatever
# the batch size), and a waiting alert is at most this late.
NOTIFY_SOONEST_S = 0.5
PRUNE_EVERY_S = 3600  # old processed events are deleted hourly, by the scheduler lease's holder


def notification_jobs(dispatcher: Dispatcher, sessions: SessionFactory, settings: Settings,
                      context_chat: AlertContextChat | None = None) -> list[Job]:
    """Stored events → alert groups and deployment summaries, and the groups' flushes. Safe on every
    replica: events are claimed SKIP LOCKED and grouping runs under the store's grouping lock.
    `context_chat`: where a newly firing alarm's chart and log lines go (the chat itself when it
    can show them, like the console's)."""
    rt = dispatcher.rt
    pipeline = NotificationPipeline(rt.catalog, rt.chat, default_channel=settings.default_channel)
    context_chat = context_chat or (rt.chat if hasattr(rt.chat, "post_context") else None)
    context = AlarmContextStep(rt.catalog.notifications,
                               AwsAlertContext(quick_sessions(sessions, read_timeout_s=5),
                                               rt.catalog.environments.values(), rt.clock),
                               context_chat)
    return [
        Job(NOTIFY_EVENTS, EventProcessor(rt.store, pipeline, rt.clock).process_due, interval_s=1,
            soonest_s=NOTIFY_SOONEST_S),
        Job("notify-flush", GroupFlusher(rt.catalog, rt.store, rt.chat, rt.clock, context=context).flush_due,
            interval_s=1),
        Job("prune-events", EventRetention(rt.store, rt.clock, keep_days=settings.events_keep_days).prune,
            interval_s=PRUNE_EVERY_S, singleton=True),
    ]


def _start_sandbox() -> Any:
    from opsgate.sandbox import start_sandbox  # moto is an optional extra: load it only when asked

    return start_sandbox()


# -- Slack and `opsgate serve` (the ASGI app) -------------------------------------------------------
# Imported inside the functions: the console and the other commands never load Bolt or Starlette.

LINE_THREADS = 4  # lines running at once (the core is synchronous); more wait in the queue
# The event loop acks every Slack request; when line threads hold the GIL it waits for them up to
# this long each time (Python's default is 5 ms). See docs/benchmarks.md, "Slack ack".
GIL_SWITCH_INTERVAL_S = 0.001


LINE_PROCESS_NICE = 19  # the line process yields the CPU to the acking process under load


@dataclass
class SlackBack:
    """What runs lines and sends messages: the app (dispatcher, background jobs), the outbox
    delivery and the line runner. In the serving process, or in the line process."""

    app: App
    delivery: Any  # OutboxDelivery: tests call deliver_due()
    pump: Any  # DeliveryPump
    runner: Any  # LineRunner: `running` lines not yet answered
    start_delivery: bool = True

    def start(self) -> None:
        self.app.worker.start()  # expiry, following running automation, approval queues
        if self.start_delivery:
            self.pump.start()  # the outbox: sends at once when woken, looks again every second

    def stop(self) -> None:
        self.runner.drain(25)
        if self.start_delivery:
            self.pump.stop()
        self.app.close()


def build_slack_back(settings: Settings, *, clock: Clock | None = None, migrate: bool = True,
                     start_delivery: bool = True) -> SlackBack:
    """`start_delivery=False` leaves sending the outbox to the caller (tests)."""
    from slack_sdk import WebClient

    from opsgate.adapters.chat.slack.chat import SlackChat
    from opsgate.adapters.chat.slack.delivery import OutboxDelivery
    from opsgate.adapters.chat.slack.directory import SlackDirectory
    from opsgate.adapters.chat.slack.rooms import SlackRooms
    from opsgate.adapters.chat.slack.uploads import SlackAlertContext
    from opsgate.adapters.chat.slack.pump import DeliveryPump
    from opsgate.adapters.chat.slack.runner import LineRunner

    token = _required(settings.slack_bot_token, "OPSGATE_SLACK_BOT_TOKEN (the bot token, xoxb-...)")
    clock = clock or SystemClock()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    store = open_store(settings.database_url, migrate=migrate)
    web_client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    pages = PageLinks(settings.base_url)
    delivery = OutboxDelivery(store, web_client, clock, request_page=pages.request, subject_page=pages.url)
    pump = DeliveryPump(delivery.deliver_due)
    chat = SlackChat(store, clock, wake=pump.wake if start_delivery else (lambda: None))
    directory = SlackDirectory(web_client, clock, ttl_s=settings.slack_groups_ttl_s)
    app = build(settings, chat, clock=clock, store=store, directory=directory, background=settings.serve_jobs,
                rooms=SlackRooms(web_client), context_chat=SlackAlertContext(chat))
    runner = LineRunner(counted_lines("slack", app.dispatcher.handle), chat, web_client, threads=LINE_THREADS,
                        pages=PageLinks(settings.base_url))
    return SlackBack(app, delivery, pump, runner, start_delivery)


def run_line_process(settings: Settings, reader: Any) -> None:
    """The line process `serve` starts: runs the lines the serving process acked, sends the
    outbox, runs the background jobs."""
    from opsgate.adapters.chat.slack.line_process import (
        DENY_FORM,
        EVENTS_STORED,
        LINE,
        REFUSED,
        become_line_process,
        serve_queue,
    )
    from opsgate.logs import configure

    become_line_process(LINE_PROCESS_NICE, settings.line_cgroup)
    configure(settings.log_level)
    back = build_slack_back(settings, migrate=False)  # the serving process upgraded the schema
    back.start()
    try:
        serve_queue(reader, {LINE: back.runner.start, DENY_FORM: back.runner.ask_deny_reason,
                            REFUSED: back.app.dispatcher.audit_rejected, EVENTS_STORED: lambda: back.app.on_event_stored()})
    finally:
        back.stop()


@dataclass
class SlackServer:
    asgi: Any  # the Starlette app
    back: SlackBack | None  # None when lines run in the line process
    lines: Any  # LineRunner, or LineProcess

    @property
    def app(self) -> App:
        assert self.back is not None, "lines run in the line process"
        return self.back.app

    @property
    def delivery(self) -> Any:
        assert self.back is not None, "lines run in the line process"
        return self.back.delivery

    @property
    def runner(self) -> Any:
        assert self.back is not None, "lines run in the line process"
        return self.back.runner


def build_slack_server(settings: Settings, *, clock: Clock | None = None, migrate: bool = True,
                       socket_mode: bool = False, start_delivery: bool = True,
                       line_process: bool = False) -> SlackServer:
    """Slack over HTTP (or Socket Mode), health checks, and the back (lines, outbox delivery,
    background jobs): what `serve` runs. `line_process`: the back runs in a second process at a
    lower priority, and this one only acks (see adapters/chat/slack/line_process.py)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from opsgate.adapters.chat.slack.app import build_bolt_app
    from opsgate.adapters.chat.slack.endpoint import SlackEndpoint
    from opsgate.adapters.chat.slack.line_process import LineProcess
    from opsgate.adapters.chat.slack.socket_mode import SocketModeConnection
    from opsgate.adapters.chat.slack.verify import RequestGuard
    from opsgate.web.app import WebParts, create_app

    token = _required(settings.slack_bot_token, "OPSGATE_SLACK_BOT_TOKEN (the bot token, xoxb-...)")
    signing_secret = None if socket_mode else _required(settings.slack_signing_secret, "OPSGATE_SLACK_SIGNING_SECRET")
    app_token = _required(settings.slack_app_token, "OPSGATE_SLACK_APP_TOKEN (xapp-...)") if socket_mode else None
    if line_process:
        # Everything the line process needs, imported before it is forked: the pages are shared.
        from opsgate.adapters.chat.slack import chat, delivery, directory, pump, rooms, runner  # noqa: F401

        back = None
        store = open_store(settings.database_url, migrate=migrate)  # readiness; schema upgraded before the child starts
        lines = LineProcess(run_line_process, settings)
        audit = lines.audit_refusal
        readiness = lambda: lines.problem() or store.readiness_problem()  # noqa: E731
    else:
        back = build_slack_back(settings, clock=clock, migrate=migrate, start_delivery=start_delivery)
        lines, audit, readiness = back.runner, back.app.dispatcher.audit_rejected, back.app.store.readiness_problem
    async_client = AsyncWebClient(token=token, base_url=settings.slack_api_url)  # Bolt's own, and Socket Mode's
    bolt = build_bolt_app(lines, async_client, signing_secret=signing_secret)
    connection = SocketModeConnection(bolt, app_token, async_client) if app_token else None

    async def start() -> None:
        if back is not None:
            back.start()
        else:
            lines.open()
        if connection is not None:
            await connection.connect()

    async def stop() -> None:
        if connection is not None:
            await connection.close()
        if back is not None:
            await asyncio.to_thread(back.stop)
        else:
            await asyncio.to_thread(lines.close, 30)
            store.close()

    endpoint = None
    if signing_secret is not None:
        endpoint = SlackEndpoint(bolt, RequestGuard(signing_secret), audit)
    if back is not None:
        catalog, read_store, command_of = back.app.catalog, back.app.store, back.app.dispatcher.rt.command
        sessions = back.app.sessions
    else:
        catalog = catalog_from(settings.config_path)
        read_store, command_of = store, command_table(catalog).get
        sessions = None if settings.sandbox else aws_sessions(settings)  # the sandbox runs in the line process
    intake = intake_web(settings, catalog, read_store, clock or SystemClock(),
                        on_stored=(lambda: back.app.on_event_stored()) if back is not None else lines.events_stored)
    asgi = create_app(WebParts(readiness=readiness, slack=endpoint, on_startup=[start],
                               on_shutdown=[stop], max_body_bytes=settings.max_body_bytes,
                               routes=web_routes(settings, catalog, read_store, clock or SystemClock(), command_of,
                                                 sessions) + intake.routes, body_limits=intake.body_limits))
    return SlackServer(asgi, back, lines)


# -- pages, sign-in and /metrics ---------------------------------------------------------------------

def command_table(catalog: Catalog) -> dict[str, Command]:
    """Every command a stored request may name: the catalog's, the built-ins, opsgate's internal ones
    (where no Runtime is at hand to ask: pages in the serving process when lines run elsewhere)."""
    environments = tuple(catalog.environments)
    return {**catalog.commands, **builtin_commands(environments),
            **{command.name: command for command in internal_commands(environments)}}


def sign_in(settings: Settings, catalog: Catalog, clock: Clock) -> Any:
    """The pages' sign-in: the ALB's OIDC token and/or the static token (neither: pages refuse everyone)."""
    from opsgate.web.auth import SignIn, StaticToken
    from opsgate.web.auth_alb import AlbVerifier

    token = None
    if settings.web_token is not None and settings.web_token_person is not None:
        if settings.web_token_person not in catalog.people:
            raise ConfigError([f"OPSGATE_WEB_TOKEN_PERSON: no person '{settings.web_token_person}' in the catalog "
                               f"(people: {', '.join(sorted(catalog.people))})"])
        token = StaticToken(settings.web_token.get_secret_value(), settings.web_token_person,
                            settings.web_session_secret.get_secret_value() if settings.web_session_secret else None,
                            settings.web_session_ttl_s)
    alb = (AlbVerifier(settings.alb_arn, settings.alb_key_url, clock, claim=settings.oidc_claim)
           if settings.alb_arn else None)
    return SignIn(catalog, alb=alb, token=token)


def web_routes(settings: Settings, catalog: Catalog, store: SqlStore, clock: Clock,
               command_of: Callable[[str], Command | None], sessions: SessionFactory | None) -> list[Any]:
    """The pages, sign-in and /metrics, for the ASGI app of `serve` and of the demo. `sessions`:
    how the deployments page reads AWS (None: it reads none)."""
    from opsgate.metrics_db import DatabaseCollector
    from opsgate.web.metrics_endpoint import metrics_route
    from opsgate.web.pages import page_routes

    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    deployments = None
    if sessions is not None:
        aws = AwsAutomation(all_targets(), quick_sessions(sessions, read_timeout_s=10))
        deployments = DeploymentHistory(aws, store, catalog, PageLinks(settings.base_url))
    return [metrics_route([DatabaseCollector(store)], token=metrics_token),
            *page_routes(catalog, store, clock, sign_in(settings, catalog, clock), command_of, deployments)]


def build_pages_server(app: App, clock: Clock | None = None) -> Any:
    """The pages, /metrics and health checks over an App whose chat is not Slack (the demo's console)."""
    from opsgate.web.app import WebParts, create_app

    routes = web_routes(app.settings, app.catalog, app.store, clock or SystemClock(), app.dispatcher.rt.command,
                        app.sessions)
    return create_app(WebParts(readiness=app.store.readiness_problem, routes=routes,
                               max_body_bytes=app.settings.max_body_bytes))


def serve_asgi_from_env() -> Any:
    """uvicorn's factory for `opsgate serve` (each worker process builds its own)."""
    import os

    from opsgate.config.settings import resolve_settings

    settings = resolve_settings(os.environ)
    return build_slack_server(settings, socket_mode=os.environ.get("OPSGATE_SOCKET_MODE") == "1",
                              line_process=settings.line_process).asgi


def _required(secret: Any, name: str) -> str:
    if secret is None:
        raise ConfigError([f"{name} is not set; `opsgate serve` needs it"])
    return secret.get_secret_value()


# -- intake: SNS and webhooks over HTTP, SQS queues in the background (docs/intake.md) ----------

def intake_web(settings: Settings, catalog: Catalog, store: Store, clock: Clock, *,
               on_stored: Callable[[], None] = lambda: None, environ: Mapping[str, str] | None = None) -> Any:
    """The /events routes (IntakeWeb: routes, body_limits). Webhook secrets are read from
    `environ` (default: the process environment); a missing or short one is a ConfigError."""
    import os
    import ssl

    from opsgate.adapters.intake.recorder import EventRecorder
    from opsgate.adapters.intake.sns import SnsVerifier
    from opsgate.adapters.intake.sns_certificates import AWS_CERT_HOST, CertificateCache, HttpsCertificateFetcher
    from opsgate.adapters.intake.subscription import SubscriptionConfirmer
    from opsgate.adapters.intake.webhook import WebhookVerifier, webhook_secrets
    from opsgate.web.intake import IntakeWeb, SnsIntake, WebhookIntake

    context = ssl.create_default_context(cafile=str(settings.sns_ca_file)) if settings.sns_ca_file else None
    hosts = settings.sns_cert_host_pattern or AWS_CERT_HOST
    recorder = EventRecorder(store, clock, on_stored=on_stored)
    # `seen`: never here. The store's unique MessageId, claimed in the transaction that stores the
    # message, is the replay check: a retry of a stored message is answered 200, stored once.
    verifier = SnsVerifier(topic_arns=catalog.intake.sns_topics, seen=lambda message_id: False,
                           certificates=CertificateCache(HttpsCertificateFetcher(ssl_context=context)),
                           max_age_s=settings.sns_max_age_s, cert_host_pattern=hosts)
    sns = SnsIntake(verifier, SubscriptionConfirmer(host_pattern=hosts, ssl_context=context), recorder, store, clock)
    webhooks = WebhookVerifier(webhook_secrets(catalog.intake.webhooks, os.environ if environ is None else environ))
    return IntakeWeb(sns, WebhookIntake(webhooks, recorder, clock))


def build_worker(settings: Settings, *, clock: Clock | None = None) -> App:
    """What `opsgate worker` runs: the background jobs and the intake queues (app.worker). Chat
    messages go to the outbox, which `serve` sends."""
    from opsgate.adapters.chat.slack.chat import SlackChat

    clock = clock or SystemClock()
    store = open_store(settings.database_url)
    try:
        return build(settings, SlackChat(store, clock), clock=clock, store=store)
    except BaseException:
        store.close()
        raise


def intake_queues(app: App, clock: Clock) -> Any:
    """QueueConsumers reading the catalog's intake queues, each with its environment's credentials."""
    from opsgate.adapters.intake.recorder import EventRecorder
    from opsgate.adapters.intake.sqs_consumer import QueueConsumers, QueueReader

    recorder = EventRecorder(app.store, clock, on_stored=lambda: app.on_event_stored())
    return QueueConsumers([
        QueueReader(queue, app.catalog.environments[queue.environment], app.sessions, recorder,
                    wait_s=app.settings.sqs_wait_s)
        for queue in app.catalog.intake.queues
    ])


# -- `opsgate iam-policy` ------------------------------------------------------------------------

def iam_policies(catalog: Catalog, environments: list[str], principal_arn: str) -> dict[str, Any]:
    """Per environment: the role's least-privilege policy (what the catalog's actions and the
    approval queue need) and the trust policy template."""
    from opsgate.adapters.aws.iam_policy import (
        alert_context_permissions,
        collect,
        intake_queue_permissions,
        policy_for,
        trust_policy,
    )

    targets = {t.kind: t for t in all_targets()}
    alarms_arrive = bool(catalog.intake.sns_topics or catalog.intake.queues)  # charts and log lines for them
    log_groups = [rule.log_group for rule in catalog.notifications.context]
    out: dict[str, Any] = {}
    for name in environments:
        env = catalog.environments[name]
        needed = collect(catalog.commands.values(), env, targets) + intake_queue_permissions(env, catalog.intake.queues)
        if alarms_arrive:
            needed += alert_context_permissions(env, log_groups)
        out[name] = {
            "account": env.account,
            "role_arn": env.role_arn,
            "policy": policy_for(env, needed),
            "trust_policy": trust_policy(principal_arn),
        }
    return out
