"""`opsgate serve` with its line process: the serving process acks, the line process runs the
lines, writes the audit records of refused requests, and is started again if it dies."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from opsgate.adapters.cpu_groups import LINES_GROUP, cpu_mount, own_group
from opsgate.adapters.store import open_store
from tests.e2e.test_slack_serve_cli import serving, slash


def line_processes(parent_pid: int) -> list[int]:
    """Children of `serve` that run lines (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent_pid and state != "Z" and "resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


def test_lines_run_in_a_second_process_at_a_lower_priority(tmp_path, api):
    with serving(tmp_path, api, "--line-process") as (process, client):
        [child] = api.wait_for(lambda: line_processes(process.pid), timeout_s=15)
        nice = lambda pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])  # noqa: E731
        api.wait_for(lambda: nice(child) > nice(process.pid))  # set first thing in the child
        assert slash(client, api, "deploy status web prod", "7.7.7").status_code == 200
        [posted] = api.wait_for(lambda: api.calls_to("chat.postMessage"))
        assert "web in prod: v42" in posted.args["text"]


def cgroups_writable() -> bool:
    mount = cpu_mount(Path("/proc/self/mountinfo").read_text())
    group = own_group(mount, Path("/proc/self/cgroup").read_text()) if mount else None
    return group is not None and os.access(group, os.W_OK)


def test_the_line_process_runs_in_an_idle_cpu_group_where_the_os_allows_one(tmp_path, api):
    if not cgroups_writable():
        pytest.skip("this machine lets no process here change its CPU cgroup")
    with serving(tmp_path, api, "--line-process") as (process, client):
        [child] = api.wait_for(lambda: line_processes(process.pid), timeout_s=15)
        api.wait_for(lambda: f"/{LINES_GROUP}" in Path(f"/proc/{child}/cgroup").read_text())  # first thing in the child
        assert f"/{LINES_GROUP}" not in Path(f"/proc/{process.pid}/cgroup").read_text()
        assert slash(client, api, "deploy status web prod", "6.6.6").status_code == 200
        [posted] = api.wait_for(lambda: api.calls_to("chat.postMessage"))
        assert "web in prod: v42" in posted.args["text"]
    with serving(tmp_path, api, "--line-process", env={"OPSGATE_LINE_CGROUP": "0"}) as (process, client):
        [child] = api.wait_for(lambda: line_processes(process.pid), timeout_s=15)
        time.sleep(0.5)
        assert f"/{LINES_GROUP}" not in Path(f"/proc/{child}/cgroup").read_text()


def test_a_refused_request_is_audited_by_the_line_process(tmp_path, api):
    with serving(tmp_path, api, "--line-process") as (process, client):
        body = b"command=%2Fops&text=help&user_id=U0MALLORY"
        answer = client.post("/slack/events", content=body,
                             headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                      "X-Slack-Signature": "v0=" + "0" * 64})
        assert answer.status_code == 401
        store = open_store(f"sqlite:///{tmp_path / 'opsgate.db'}", migrate=False)
        try:
            records = api.wait_for(lambda: [r.fields() for r in store.iter_audit() if r.fields()["event"] == "delivery.refused"])
        finally:
            store.close()
        assert "signature does not match" in records[0]["reason"]
        assert records[0]["correlation"]["claimed_user"] == "U0MALLORY"


def test_a_dead_line_process_is_replaced_and_the_next_line_is_answered(tmp_path, api):
    with serving(tmp_path, api, "--line-process") as (process, client):
        [child] = api.wait_for(lambda: line_processes(process.pid), timeout_s=15)
        os.kill(child, signal.SIGKILL)
        api.wait_for(lambda: child not in line_processes(process.pid), timeout_s=15)
        assert slash(client, api, "deploy status web prod", "8.8.8").status_code == 200
        [posted] = api.wait_for(lambda: api.calls_to("chat.postMessage"), timeout_s=30)
        assert "web in prod: v42" in posted.args["text"]
        [new_child] = line_processes(process.pid)
        assert new_child != child


def test_metrics_add_up_the_counters_of_the_line_process(tmp_path, api):
    with serving(tmp_path, api, "--line-process") as (process, client):
        assert slash(client, api, "deploy status web prod", "9.9.9").status_code == 200
        api.wait_for(lambda: api.calls_to("chat.postMessage"))
        exposed = api.wait_for(lambda: [line for line in client.get("/metrics").text.splitlines()
                                      if line.startswith('opsgate_lines_total{') and 'result="ok"' in line])
        assert exposed[0].endswith(" 1.0")  # counted in the line process, shown by the serving one
