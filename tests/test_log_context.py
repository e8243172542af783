"""Log lines carry the ids of what was being handled: the opsgate request, the chat line (its `ref`
and `delivery`), the HTTP request, the background job. Read from the JSON lines opsgate writes,
over the real app."""

from __future__ import annotations

import io
import json
import logging
import threading

import httpx
import pytest

from opsgate import log_context
from opsgate.config.settings import resolve_settings
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Message
from opsgate.logs import configure
from opsgate.ports import RunResult
from opsgate.testing import FakeClock, RecordingChat
from opsgate.web.server_thread import ServerThread
from opsgate.worker import Job, Worker
from opsgate.wiring import build, build_pages_server
from tests.e2e.slack_world import CATALOG  # restart (dev; prod is protected), people in Slack

TOKEN = "log-test-token-0123456789"


@pytest.fixture
def json_logs():
    """The JSON lines opsgate writes (logs.configure), read back as dicts."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure("info", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def app_factory(tmp_path):
    apps = []

    def make(chat=None, env: dict[str, str] | None = None):
        config = tmp_path / "opsgate.yaml"
        config.write_text(CATALOG)
        settings = resolve_settings({"OPSGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'opsgate.db'}", **(env or {})},
                                    config=config, cwd=tmp_path)
        apps.append(build(settings, chat or RecordingChat(), clock=FakeClock()))
        return apps[-1]

    yield make
    for app in apps:
        app.close()


def line(user: str, text: str, key: str) -> Inbound:
    return Inbound(actor=Actor("slack", user, user), text=text, channel="C0OPS", idempotency_key=key)


def the(lines: list[dict], event: str) -> dict:
    found = [entry for entry in lines if entry["event"] == event]
    assert len(found) == 1, lines
    return found[0]


class BuggyAutomation:
    """An automation target with a bug: it raises what no adapter should."""

    def plan(self, action, params, ctx):
        return []

    def run(self, action, params, ctx) -> RunResult:
        raise KeyError("missing")

    def poll(self, action, params, ctx, checkpoint) -> RunResult:
        raise KeyError("missing")


class UnpostableChat(RecordingChat):
    """A chat whose sending breaks (an adapter bug): the error escapes the request it was about."""

    def post(self, message: Message) -> None:
        raise RuntimeError("the chat broke")


def test_an_automation_crash_logs_the_request_and_the_chat_line_it_came_from(app_factory, json_logs):
    app = app_factory()
    app.dispatcher.rt.automation.targets["builtin"] = BuggyAutomation()
    reply = app.dispatcher.handle(line("U0ALICE", "restart web dev", "slack:cmd:line-1"))
    assert not reply.ok and "internal error" in reply.text
    crashed = the(json_logs(), "automation crashed")
    assert crashed["request_id"] == reply.request_id
    assert crashed["delivery"] == "slack:cmd:line-1" and len(crashed["ref"]) == 8
    assert crashed["level"] == "error" and "KeyError: 'missing'" in crashed["exception"]


def test_an_error_escaping_a_request_is_logged_with_its_id_and_the_ref_its_sender_saw(app_factory, json_logs):
    app = app_factory(UnpostableChat())
    reply = app.dispatcher.handle(line("U0ALICE", "restart web prod", "slack:cmd:line-2"))  # asks approvers: posts
    assert not reply.ok
    with app.store.reading() as tx:
        [asked] = tx.list_requests(limit=5)
    failed = the(json_logs(), "internal error")
    assert failed["request_id"] == asked.id  # known where it broke, though logged by the dispatcher
    assert f"(ref {failed['ref']})" in reply.text and failed["delivery"] == "slack:cmd:line-2"
    assert "RuntimeError: the chat broke" in failed["exception"]


def test_an_http_request_has_an_id_in_its_answer_and_on_its_log_lines(app_factory, json_logs):
    app = app_factory(env={"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": "carol"})
    server = ServerThread(build_pages_server(app)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            refused = client.get("/signin", params={"token": "not-the-token-0000"})
            kept = client.get("/healthz", headers={"X-Request-Id": "alb-1-abc"})
            replaced = client.get("/healthz", headers={"X-Request-Id": "<script>"})
    finally:
        server.stop()
    assert refused.status_code == 403
    logged = the(json_logs(), "sign-in with a wrong token")
    assert logged["http_request"] == refused.headers["x-request-id"] and logged["http_request"].startswith("h-")
    assert kept.headers["x-request-id"] == "alb-1-abc"
    assert replaced.headers["x-request-id"].startswith("h-")


def test_a_failing_background_job_says_which_job(json_logs):
    def broken() -> int:
        raise ValueError("the database went away")

    Worker([Job("follow", broken, interval_s=60)]).run_all_once()
    failed = the(json_logs(), "background job failed")
    assert failed["job"] == "follow" and "ValueError" in failed["exception"]


def test_work_handed_to_another_thread_keeps_the_ids_and_explicit_fields_win(json_logs):
    log = logging.getLogger("opsgate.test")
    with log_context.bound(http_request="h-1", job="pages"):
        worker = threading.Thread(target=log_context.carried(lambda: log.info("on a pool thread")))
        worker.start()
        worker.join()
        log.info("told otherwise", extra={"job": "mine"})
    log.info("after the work")
    lines = json_logs()
    assert the(lines, "on a pool thread")["http_request"] == "h-1"
    assert the(lines, "told otherwise")["job"] == "mine"
    assert "http_request" not in the(lines, "after the work")

