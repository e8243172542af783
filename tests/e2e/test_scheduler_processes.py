"""Scheduler leadership between two real OS processes on PostgreSQL: both run the same background
jobs on one database, ticked at the same moments on one shared clock. Exactly one runs the
scheduled check per fire time; when the leader is killed, the other takes over once the lease runs
out; when the leader stops gracefully, at once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsgate.adapters.store import open_store
from opsgate.core.leadership import DEFAULT_TTL_S

SCRIPT = Path(__file__).with_name("scheduler_process.py")
START = datetime(2026, 3, 2, 9, 0, 5, tzinfo=timezone.utc)
STEP_S = DEFAULT_TTL_S / 3  # the renewal interval: each tick is one renewal

CATALOG = """\
version: 1
environments:
  - {name: prod, account: "222222222222", region: eu-west-1}
people:
  - {id: scheduler, name: opsgate scheduler, identities: {schedule: scheduler}}
roles:
  - {name: observer, members: [scheduler]}
commands:
  - name: heartbeat
    summary: Say which request this is (a new result every time, so every run is posted)
    class: read
    roles: [observer]
    action: {kind: builtin, operation: echo, message: "heartbeat {request_id}"}
schedules:
  - {name: heartbeat, cron: "* * * * *", run: heartbeat, run_as: scheduler, channel: C0OPS}
"""


class Process:
    def __init__(self, url: str, catalog: Path, clock_file: Path, holder: str) -> None:
        self.holder = holder
        self.log = clock_file.with_name(f"{holder}.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, str(SCRIPT), url, str(catalog), str(clock_file), holder],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self._read() == {"ready": True}

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"process {self.holder} ended (exit code {self.proc.poll()}):\n{self.log.read_text()[-3000:]}"
        return json.loads(line)

    def answer(self) -> dict:
        return self._read()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Cluster:
    """Two opsgate processes and the clock they share."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.url = url
        open_store(url).close()  # migrated once, before the processes start
        self.catalog = tmp_path / "opsgate.yaml"
        self.catalog.write_text(CATALOG)
        self.clock_file = tmp_path / "clock"
        self.now = START
        self.clock_file.write_text(self.now.isoformat())
        self.processes = {name: Process(url, self.catalog, self.clock_file, name) for name in ("one", "two")}

    def tick(self, *names: str) -> dict[str, dict]:
        """Advance the clock one step, then tick the named processes at the same moment."""
        self.now += timedelta(seconds=STEP_S)
        self.clock_file.write_text(self.now.isoformat())
        alive = names or tuple(self.processes)
        for name in alive:
            self.processes[name].send("tick")
        return {name: self.processes[name].answer() for name in alive}

    def runs(self) -> list[str]:
        """The ids of the scheduled heartbeat requests in the database."""
        store = open_store(self.url)
        try:
            with store.transaction() as tx:
                return [r.id for r in tx.list_requests(limit=1000) if r.command == "heartbeat"]
        finally:
            store.close()

    def close(self) -> None:
        for process in self.processes.values():
            process.close()


@pytest.fixture
def cluster(tmp_path, postgres_url):
    cluster = Cluster(tmp_path, postgres_url)
    yield cluster
    cluster.close()


def fire_times(start: datetime, end: datetime) -> int:
    """Whole minutes in (start, end]: the fire times of `* * * * *`."""
    first = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return 0 if first > end else int((end - first).total_seconds() // 60) + 1


def test_one_leader_runs_each_fire_time_once_and_keeps_leading(cluster):
    leaders, posts = [], []
    answers = cluster.tick()
    first_seen = cluster.now  # the first tick only starts the schedule's count
    for _ in range(30):  # five minutes of ticks, both processes at each
        answers = cluster.tick()
        leading = [name for name, a in answers.items() if a["leading"]]
        assert len(leading) == 1, answers
        leaders += leading
        for name, answer in answers.items():
            assert ("schedules" in answer["ran"]) == (name in leading)  # the follower skips singleton jobs
            assert "expire" in answer["ran"]  # jobs safe everywhere run in both
            posts += answer["posts"]
    assert len(set(leaders)) == 1  # the same process led throughout
    expected = fire_times(first_seen, cluster.now)
    assert expected == 5
    assert len(cluster.runs()) == expected  # exactly one run per fire time ...
    assert len(posts) == expected  # ... and one post of each result


def test_the_other_process_takes_over_when_the_leader_is_killed(cluster):
    answers = cluster.tick()
    [leader] = [name for name, a in answers.items() if a["leading"]]
    [follower] = [name for name in cluster.processes if name != leader]
    first_seen = cluster.now
    for _ in range(6):
        cluster.tick()
    cluster.processes[leader].kill()  # no release: its lease must run out
    killed_at = cluster.now
    takeover = None
    for step in range(1, 8):
        answer = cluster.tick(follower)[follower]
        if answer["leading"]:
            takeover = step
            break
    # the lease was renewed at the last tick before the kill and runs for DEFAULT_TTL_S from then
    assert takeover is not None and cluster.now - killed_at >= timedelta(seconds=DEFAULT_TTL_S)
    assert cluster.now - killed_at <= timedelta(seconds=DEFAULT_TTL_S + STEP_S)
    for _ in range(12):
        assert cluster.tick(follower)[follower]["leading"]
    # every fire time after the first sight ran once; one the leader's death left in between is
    # coalesced into the new leader's first run
    runs = cluster.runs()
    assert len(runs) == len(set(runs))
    assert fire_times(first_seen, killed_at) + 1 <= len(runs) <= fire_times(first_seen, cluster.now)


def test_a_graceful_stop_hands_over_at_the_next_tick(cluster):
    answers = cluster.tick()
    [leader] = [name for name, a in answers.items() if a["leading"]]
    [follower] = [name for name in cluster.processes if name != leader]
    cluster.processes[leader].send("stop")
    assert cluster.processes[leader].answer() == {"stopped": True}
    assert cluster.tick(follower)[follower]["leading"]  # no waiting for the lease to run out
