"""Runbook search, reminders and scheduled checks in the console, on the example catalog: the
`opsgate console` command piped, and an in-process session whose clock moves (the AWS sandbox
answers the scheduled `alarms env=prod`)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from rich.console import Console

from opsgate.adapters.chat.console import ConsoleChat, run_console
from opsgate.config.settings import resolve_settings
from opsgate.testing import FakeClock
from opsgate.wiring import build
from tests.e2e.test_console_session import EXAMPLE, opsgate


def test_piped_console_finds_runbooks_and_manages_reminders(tmp_path):
    first = opsgate(["console", "--as", "bob"], tmp_path,
                    'runbook web 5xx errors\nrunbook kubernetes\nremind here at="in 2h" "check the canary"\n'
                    'remind C0OPS at="tomorrow 09:00" "release train"\nreminders\n')
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "📖 *Web returns 5xx errors* — matched: web, 5xx, errors · owner team-platform" in out
    assert "[rollback service=web env=prod: /ops rollback service=web env=prod]" in out  # buttons, as lines
    assert "No runbook mentions kubernetes." in out
    canary = re.search(r"Reminder `(rem-[0-9a-z]{8})` set for .* Europe/Berlin in console: check the canary", out)
    assert canary and "release train" in out
    listed = out.split("bob> reminders")[1]
    assert listed.index("check the canary") < listed.index("release train")  # soonest first

    second = opsgate(["console", "--as", "alice"], tmp_path,
                     f"remind cancel {canary.group(1)}\n:as bob\nremind cancel {canary.group(1)}\nreminders\n")
    assert "only they can cancel it" in second.stdout
    assert f"Cancelled reminder `{canary.group(1)}`." in second.stdout
    assert "check the canary" not in second.stdout.split("bob> reminders")[1]


def test_in_process_session_delivers_reminders_and_posts_scheduled_checks_on_change(tmp_path):
    settings = resolve_settings({"OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_SANDBOX": "1"}, config=EXAMPLE, cwd=tmp_path)
    screen = io.StringIO()
    console = Console(file=screen, width=300, soft_wrap=True)
    monday_7_berlin = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
    clock = FakeClock(monday_7_berlin)
    app = build(settings, ConsoleChat(console), clock=clock)

    def identify(person):
        found = app.catalog.identify("console", person)
        return found.name if found else None

    def script():
        yield 'remind here at="in 1h" "check the canary"'  # after each line the background jobs run
        clock.set(monday_7_berlin + timedelta(hours=1, seconds=30))  # 08:00:30 in Berlin
        yield "whoami"
        clock.set(monday_7_berlin + timedelta(days=1, hours=1, seconds=30))  # Tuesday 08:00:30
        yield "whoami"

    try:
        run_console(app.dispatcher.handle, identify, "alice", script(), console, echo=True,
                    after_line=app.worker.run_all_once)
        with app.store.transaction() as tx:
            runs = [r for r in tx.list_requests(limit=50) if r.requester_id == "scheduler"]
    finally:
        app.close()
    out = screen.getvalue()
    assert "[console] ⏰ Reminder from Alice Example: check the canary" in out
    assert out.count("⏰ Reminder from") == 1
    posted = [line for line in out.splitlines() if "Scheduled check" in line]
    # Monday 08:00 alarms; Monday 09:00 cost, run late (coalesced) on Tuesday; Tuesday's alarms were the same
    assert posted == ["[C0OPS] ✅ Scheduled check *prod-alarms* (`alarms env=prod`) has a new result:",
                      "[C0OPS] ✅ Scheduled check *prod-cost* (`cost env=prod`) has a new result:"]
    assert "api-latency-p99 — ALARM" in out and "web-5xx-high — ALARM" in out
    assert sorted(r.command for r in runs) == ["alarms", "alarms", "cost"]
