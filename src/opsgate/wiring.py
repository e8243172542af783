"""Composition root: settings → catalog → adapters → dispatcher. Nothing else constructs adapters."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsgate.adapters import builtin_actions
from opsgate.adapters.aws.approval_queue import ApprovalQueueReader
from opsgate.adapters.aws.automation import AwsAutomation
from opsgate.adapters.aws.registry import INTERNAL_KINDS, all_targets
from opsgate.adapters.aws.session import SessionFactory
from opsgate.adapters.store import SqlStore, open_store
from opsgate.clock import SystemClock
from opsgate.config import load_catalog
from opsgate.config.actions import DEFAULT_ACTION_KINDS, ActionValidator, summary_validator
from opsgate.config.settings import Settings
from opsgate.core.automation import SUMMARY, AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.core.follow import Follower
from opsgate.core.workflow import AutomationApprovals
from opsgate.domain.catalog import Catalog
from opsgate.errors import ConfigError
from opsgate.ports import Chat, Clock, Directory
from opsgate.worker import Job, Worker


def action_validators() -> dict[str, ActionValidator]:
    """The settings check of every action kind a catalog may declare."""
    validators: dict[str, ActionValidator] = dict(DEFAULT_ACTION_KINDS)
    validators.update({t.kind: t.validate for t in all_targets() if t.kind not in INTERNAL_KINDS})
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


def automation(sessions: SessionFactory) -> AutomationRouter:
    aws = AwsAutomation(all_targets(), sessions)
    return AutomationRouter({"builtin": builtin_actions.BuiltinActions(), **{kind: aws for kind in aws.kinds}})


@dataclass
class App:
    settings: Settings
    catalog: Catalog
    store: SqlStore
    dispatcher: Dispatcher
    worker: Worker
    sessions: SessionFactory
    sandbox: Any = None  # opsgate.sandbox.Sandbox when the in-process AWS emulator runs

    def close(self) -> None:
        self.worker.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.store.close()


def build(settings: Settings, chat: Chat, *, clock: Clock | None = None, migrate: bool = True,
          store: SqlStore | None = None, directory: Directory | None = None) -> App:
    """`store`: one the caller opened already (the Slack chat writes its outbox there too)."""
    catalog = catalog_from(settings.config_path)
    sandbox = _start_sandbox() if settings.sandbox else None
    store = store or open_store(settings.database_url, migrate=migrate)
    sessions = aws_sessions(settings, sandbox)
    dispatcher = Dispatcher(catalog, store, automation(sessions), chat, clock or SystemClock(), directory)
    return App(settings, catalog, store, dispatcher, background_jobs(dispatcher, sessions, settings), sessions, sandbox)


def background_jobs(dispatcher: Dispatcher, sessions: SessionFactory, settings: Settings) -> Worker:
    """Expiry, following running automation, reading approval queues (started by the caller)."""
    follower = Follower(dispatcher.lifecycle)
    approvals = AutomationApprovals(dispatcher.lifecycle, settings.default_channel)
    queues = ApprovalQueueReader(sessions, list(dispatcher.catalog.environments.values()), approvals)
    return Worker([
        Job("expire", dispatcher.lifecycle.expire_due, interval_s=15),
        Job("follow", follower.follow_running, interval_s=2),
        Job("approval-queues", queues.poll_once, interval_s=2),
    ])


def _start_sandbox() -> Any:
    from opsgate.sandbox import start_sandbox  # moto is an optional extra: load it only when asked

    return start_sandbox()


# -- Slack and `opsgate serve` (the ASGI app) -------------------------------------------------------
# Imported inside the functions: the console and the other commands never load Bolt or Starlette.

LINE_THREADS = 4  # lines running at once (the core is synchronous); more wait in the queue
# The event loop acks every Slack request; when line threads hold the GIL it waits for them up to
# this long each time (Python's default is 5 ms). See docs/benchmarks.md, "Slack ack".
GIL_SWITCH_INTERVAL_S = 0.001


@dataclass
class SlackServer:
    app: App
    asgi: Any  # the Starlette app
    delivery: Any  # OutboxDelivery: tests call deliver_due()
    runner: Any  # LineRunner: `running` lines not yet answered


def build_slack_server(settings: Settings, *, clock: Clock | None = None, migrate: bool = True,
                       socket_mode: bool = False, start_delivery: bool = True) -> SlackServer:
    """Slack over HTTP (or Socket Mode), the outbox delivery, the background jobs, health checks:
    what `serve` runs. `start_delivery=False` leaves sending the outbox to the caller (tests)."""
    from slack_sdk import WebClient
    from slack_sdk.web.async_client import AsyncWebClient

    from opsgate.adapters.chat.slack.app import build_bolt_app
    from opsgate.adapters.chat.slack.chat import SlackChat
    from opsgate.adapters.chat.slack.delivery import OutboxDelivery
    from opsgate.adapters.chat.slack.directory import SlackDirectory
    from opsgate.adapters.chat.slack.endpoint import SlackEndpoint
    from opsgate.adapters.chat.slack.pump import DeliveryPump
    from opsgate.adapters.chat.slack.runner import LineRunner
    from opsgate.adapters.chat.slack.socket_mode import SocketModeConnection
    from opsgate.adapters.chat.slack.verify import RequestGuard
    from opsgate.web.app import WebParts, create_app

    token = _required(settings.slack_bot_token, "OPSGATE_SLACK_BOT_TOKEN (the bot token, xoxb-...)")
    signing_secret = None if socket_mode else _required(settings.slack_signing_secret, "OPSGATE_SLACK_SIGNING_SECRET")
    app_token = _required(settings.slack_app_token, "OPSGATE_SLACK_APP_TOKEN (xapp-...)") if socket_mode else None
    clock = clock or SystemClock()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    store = open_store(settings.database_url, migrate=migrate)
    web_client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    base_url = settings.base_url
    delivery = OutboxDelivery(store, web_client, clock,
                              request_page=(lambda rid: f"{base_url}/requests/{rid}") if base_url else (lambda rid: None))
    pump = DeliveryPump(delivery.deliver_due)
    chat = SlackChat(store, clock, wake=pump.wake if start_delivery else (lambda: None))
    directory = SlackDirectory(web_client, clock, ttl_s=settings.slack_groups_ttl_s)
    app = build(settings, chat, clock=clock, store=store, directory=directory)
    runner = LineRunner(app.dispatcher.handle, chat, web_client, threads=LINE_THREADS)
    async_client = AsyncWebClient(token=token, base_url=settings.slack_api_url)  # Bolt's own, and Socket Mode's
    bolt = build_bolt_app(runner, async_client, signing_secret=signing_secret)
    connection = SocketModeConnection(bolt, app_token, async_client) if app_token else None

    async def start() -> None:
        app.worker.start()  # expiry, following running automation, approval queues
        if start_delivery:
            pump.start()  # the outbox: sends at once when woken, looks again every second
        if connection is not None:
            await connection.connect()

    async def stop() -> None:
        if connection is not None:
            await connection.close()
        await asyncio.to_thread(runner.drain, 25)
        if start_delivery:
            await asyncio.to_thread(pump.stop)
        app.close()

    endpoint = None
    if signing_secret is not None:
        endpoint = SlackEndpoint(bolt, RequestGuard(signing_secret), app.dispatcher.audit_rejected).handle
    asgi = create_app(WebParts(readiness=store.readiness_problem, slack=endpoint, on_startup=[start],
                               on_shutdown=[stop], max_body_bytes=settings.max_body_bytes))
    return SlackServer(app, asgi, delivery, runner)


def serve_asgi_from_env() -> Any:
    """uvicorn's factory for `opsgate serve` (each worker process builds its own)."""
    import os

    from opsgate.config.settings import resolve_settings

    settings = resolve_settings(os.environ)
    return build_slack_server(settings, socket_mode=os.environ.get("OPSGATE_SOCKET_MODE") == "1").asgi


def _required(secret: Any, name: str) -> str:
    if secret is None:
        raise ConfigError([f"{name} is not set; `opsgate serve` needs it"])
    return secret.get_secret_value()


# -- `opsgate iam-policy` ------------------------------------------------------------------------

def iam_policies(catalog: Catalog, environments: list[str], principal_arn: str) -> dict[str, Any]:
    """Per environment: the role's least-privilege policy (what the catalog's actions and the
    approval queue need) and the trust policy template."""
    from opsgate.adapters.aws.iam_policy import collect, policy_for, trust_policy

    targets = {t.kind: t for t in all_targets()}
    out: dict[str, Any] = {}
    for name in environments:
        env = catalog.environments[name]
        out[name] = {
            "account": env.account,
            "role_arn": env.role_arn,
            "policy": policy_for(env, collect(catalog.commands.values(), env, targets)),
            "trust_policy": trust_policy(principal_arn),
        }
    return out
