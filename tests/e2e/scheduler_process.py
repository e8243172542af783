"""One opsgate process for the leadership tests: the real composition root (`wiring.build`) with its
background jobs and scheduler lease, on the database and catalog given, its clock read from a
file the test writes (so both processes share one time the test controls).

Reads commands on standard input, answers each with one JSON line:
    tick   run the background jobs once -> {"ran": [job names], "leading": bool, "posts": [texts]}
    stop   stop gracefully (the lease is released) -> {"stopped": true}

    python scheduler_process.py <database url> <catalog> <clock file> <holder>
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from opsgate.config.settings import resolve_settings
from opsgate.testing import RecordingChat
from opsgate.wiring import build


class FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip())


def main() -> None:
    url, catalog, clock_file, holder = sys.argv[1:5]
    settings = resolve_settings({"OPSGATE_DATABASE_URL": url}, config=Path(catalog))
    chat = RecordingChat()
    app = build(settings, chat, clock=FileClock(Path(clock_file)), migrate=False)
    app.worker.leadership.holder = holder  # readable names in the test's assertions
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "tick":
            seen = len(chat.messages)
            ran = app.worker.run_all_once()
            print(json.dumps({"ran": ran, "leading": app.worker.leading(),
                              "posts": [m.text for m in chat.messages[seen:]]}), flush=True)
        elif command == "stop":
            app.close()
            print(json.dumps({"stopped": True}), flush=True)
            return


if __name__ == "__main__":
    main()
