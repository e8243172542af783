"""The hand-over to the line process: each kind of item reaches the child's handler for it."""

from __future__ import annotations

import time
from pathlib import Path

from opsgate.adapters.chat.slack.line_process import EVENTS_STORED, REFUSED, LineProcess, serve_queue


def child_main(folder: str, reader) -> None:  # noqa: ANN001  (runs in the forked child)
    notes = Path(folder)
    serve_queue(reader, {
        EVENTS_STORED: lambda: (notes / "woken").write_text("events stored"),
        REFUSED: lambda platform, reason, correlation: (notes / "refused").write_text(f"{platform} {reason}"),
    })


def wait_for(path: Path, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never written"
        time.sleep(0.02)
    return path.read_text()


def test_stored_events_wake_the_childs_event_processing(tmp_path):
    lines = LineProcess(child_main, str(tmp_path))
    lines.open()
    try:
        lines.events_stored()  # what intake calls after a commit: the child processes now, not at its next poll
        lines.audit_refusal("slack", "stale_timestamp", {})
        assert wait_for(tmp_path / "woken") == "events stored"
        assert wait_for(tmp_path / "refused") == "slack stale_timestamp"
    finally:
        assert lines.close(10)
