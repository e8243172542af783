"""Scripted console sessions over the example catalog: the `opsgate` command as a user runs it."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from opsgate.adapters.chat.console import ConsoleChat, run_console
from opsgate.cli import settle_running
from opsgate.config.settings import resolve_settings
from opsgate.testing import FakeClock
from opsgate.wiring import build

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "opsgate.yaml"
PR = "https://github.com/acme/web/pull/42"


def opsgate(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "OPSGATE_DATA_DIR": str(data_dir), "OPSGATE_CONFIG": str(EXAMPLE), "OPSGATE_SANDBOX": "1"}
    env.pop("OPSGATE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "opsgate.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


def request_id(text: str) -> str:
    return re.search(r"Request `(r-[0-9a-z]{8})` is waiting", text).group(1)


def test_piped_console_session_then_audit_verify_detects_tampering(tmp_path):
    first = opsgate(["console", "--as", "alice"], tmp_path, "deploy status web prod\nrestart web prod\n")
    assert first.returncode == 0, first.stderr
    assert "Succeeded" in first.stdout and "Deployments of web in prod:" in first.stdout
    rid = request_id(first.stdout)

    second = opsgate(["console", "--as", "alice"], tmp_path,
                      f"approve {rid}\n:as bob\napprove {rid}\n:wait\nrequests all=true\n")
    assert second.returncode == 0, second.stderr
    assert "nobody approves their own request" in second.stdout
    assert "Started" in second.stdout and "acme-restart-service" in second.stdout
    assert f"`{rid}` restart env=prod service=web [prod] by Alice Example — succeeded" in second.stdout

    third = opsgate(["console", "--as", "carol"], tmp_path,
                    'lock env=prod ttl=2h reason="db upgrade"\n:as alice\nrestart api prod\n')
    assert "prod locked by Carol Example" in third.stdout
    assert "Blocked by rule `lock`" in third.stdout

    verify = opsgate(["audit", "verify"], tmp_path)
    assert verify.returncode == 0 and "Audit log intact" in verify.stdout

    exported = opsgate(["audit", "export", "--format", "csv"], tmp_path)
    assert exported.returncode == 0 and exported.stdout.startswith("seq,ts,event")

    with sqlite3.connect(tmp_path / "opsgate.db") as db:
        try:
            db.execute("UPDATE audit_log SET outcome = 'x' WHERE seq = 3")
            raise AssertionError("the append-only trigger should refuse UPDATE")
        except sqlite3.DatabaseError as err:
            assert "append-only" in str(err)
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")]
        for name in names:
            db.execute(f"DROP TRIGGER {name}")  # what someone with direct database access could do
        db.execute("UPDATE audit_log SET body = replace(body, 'prod', 'dev') WHERE seq = 3")
    broken = opsgate(["audit", "verify"], tmp_path)
    assert broken.returncode == 1
    assert "BROKEN at record #3" in broken.stderr


def test_in_process_session_shows_expiry_freeze_and_break_glass(tmp_path):
    settings = resolve_settings({"OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_SANDBOX": "1"}, config=EXAMPLE, cwd=tmp_path)
    screen = io.StringIO()
    console = Console(file=screen, width=200, soft_wrap=True)
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    clock = FakeClock(monday)
    app = build(settings, ConsoleChat(console), clock=clock)
    replies: list[str] = []

    def handle(inbound):
        reply = app.dispatcher.handle(inbound)
        replies.append(reply.text)
        return reply

    def identify(person):
        found = app.catalog.identify("console", person)
        return found.name if found else None

    def script():
        yield f"rollback web prod --link {PR}"  # alice may not: developers are limited to dev/staging
        yield ":as bob"
        yield f"rollback web prod --link {PR}"
        rid = request_id(replies[-1])
        clock.advance(minutes=31)  # the rollback approval window is 30 minutes
        yield ":as carol"
        yield f"approve {rid}"
        clock.set(datetime(2026, 3, 6, 16, 30, tzinfo=timezone.utc))  # Friday 17:30 in Berlin: frozen
        yield ":as bob"
        yield "restart web prod"
        yield 'restart web prod --break-glass "checkout is down"'
        rid = request_id(replies[-1])
        yield ":as dave"
        yield f"approve {rid}"
        yield ":wait"  # the runbook runs in SSM Automation; let opsgate follow it to the end
        yield ":as erin"
        yield "audit last=3"

    try:
        run_console(handle, identify, "alice", script(), console, echo=True, settle=lambda: settle_running(app))
    finally:
        app.close()
    out = screen.getvalue()
    assert "Denied by rule `rbac.argument`" in out
    assert "Expired: `r-" in out and "is expired, not awaiting approval" in out
    assert "Blocked by rule `freeze`" in out and "friday-evening" in out
    assert "BREAK-GLASS: checkout is down" in out
    assert "Succeeded" in out and "Step RestartTasks: Success" in out
    assert "BREAK-GLASS" in replies[-1]  # erin's audit view shows the flag
    assert app.store.verify_audit().ok
