"""Time to the HTTP ack of signed slash commands: `opsgate serve` against a bare Bolt app.

    .venv/bin/python bench/slack_ack.py [--requests 2000] [--clients 1,10,50] [--soak 10000] [--line-cpus server]
                                        [--soak-rounds 3] [--line "deploy status web dev"] [--rounds 2]

Each server runs in its own process pinned to CPU 0 (uvicorn, one worker, no access log); the
client and a local Slack Web API (which opsgate's answers and messages go to) share CPU 1. Each
client is one keep-alive connection sending the next request as soon as the last is acked; every
request has its own trigger_id, so opsgate runs every one of them (decide, record, run, post)
while acking the next. The bare app is what Bolt's docs recommend for the fastest ack: inline
`ack()`, `process_before_response=True`, an `authorize=` function (no auth.test). Rounds alternate
bare and opsgate so drift hits both.

Also measured: the memory of `opsgate serve` and its processes at idle, and after each of
`--soak-rounds` rounds of `--soak` more requests once their work has drained (growth that goes on
round after round = a leak; growth in the first round only = a high-water mark). Targets: p99 <= 1.5x the bare app and < 100 ms at 50
clients; idle memory <= 150 MB; no growth over 10,000 requests.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, CLIENT_CPU = {0}, {1}
CATALOG = """
version: 1
environments:
  - {name: dev, account: "111111111111", region: eu-west-1}
people:
""" + "".join(f"  - {{id: p{n}, name: Person {n}, identities: {{slack: U{n:07d}}}}}\n" for n in range(50)) + """
roles:
  - {name: developer, members: [""" + ", ".join(f"p{n}" for n in range(50)) + """], permissions: []}
commands:
  - name: deploy status
    summary: Show what is deployed
    class: read
    roles: [developer]
    parameters:
      - {name: service, type: enum, values: [web, api]}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "{service} in {env}: v42"}
"""

BARE_APP = """
import sys, uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def authorize(enterprise_id, team_id, user_id):
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-bench",
                           bot_user_id="UBOT", bot_id="BBOT")

bolt = AsyncApp(signing_secret=sys.argv[2], authorize=authorize, process_before_response=True)

@bolt.command("/ops")
async def on_command(ack):
    await ack()

handler = AsyncSlackRequestHandler(bolt)

async def events(request):
    return await handler.handle(request)

async def healthz(request):
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/readyz", healthz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, log_config=None)
"""

FAKE_SLACK = """
import sys, time
from opsgate.adapters.chat.slack.testing import LocalSlackApi
api = LocalSlackApi().start()
print(api.url, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
"""


@dataclass
class Level:
    app: str
    clients: int
    latencies_ms: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pinned(cpus: set[int]):
    return lambda: os.sched_setaffinity(0, cpus)


def wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} not ready after {timeout_s} s")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _field_kb(path: Path, name: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and theirs in turn (the line process, multiprocessing's
    resource tracker, serving workers)."""
    found, tree = [], _children(pid)
    while tree:
        child = tree.pop()
        found.append(child)
        tree.extend(_children(child))
    return found


def rss_mb(pid: int) -> float:
    """Memory of `serve` and every process it started: the sum of their proportional set sizes
    (PSS: shared pages counted once)."""
    total_kb = 0
    for current in [pid, *descendants(pid)]:
        try:
            total_kb += _field_kb(Path(f"/proc/{current}/smaps_rollup"), "Pss:")
        except OSError:  # gone meanwhile
            continue
    return total_kb / 1024


# -- the client -------------------------------------------------------------------------------------

class Commands:
    """Signed slash-command requests, each with its own trigger_id (so none is a duplicate)."""

    def __init__(self, line: str, response_base: str) -> None:
        self.line, self.response_base, self.n = line, response_base, 0

    def next(self, port: int) -> bytes:
        self.n += 1
        # Results are paced per channel as Slack asks (about one message a second), so the lines
        # come from many channels: the work drains at the speed of opsgate, not of the pacing.
        body = urlencode({"team_id": "T0BENCH", "channel_id": f"C0B{self.n % 1000:06d}", "channel_name": "bench",
                          "user_id": f"U{self.n % 50:07d}", "user_name": "bench", "command": "/ops", "text": self.line,
                          "response_url": f"{self.response_base}/respond/{self.n}", "trigger_id": f"{self.n}.1.bench",
                          "api_app_id": "A0BENCH"}).encode()
        ts = str(int(time.time()))
        signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature}\r\n\r\n").encode()
        return head + body


async def one_client(port: int, requests: list[bytes], latencies: list[float], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            if b" 200 " not in status_line:
                failures.append(status_line.decode().strip())
    finally:
        writer.close()


async def run_level(port: int, commands: Commands, clients: int, total: int) -> tuple[list[float], list[str]]:
    per_client = max(1, total // clients)
    batches = [[commands.next(port) for _ in range(per_client)] for _ in range(clients)]
    latencies: list[float] = []
    failures: list[str] = []
    await asyncio.gather(*(one_client(port, batch, latencies, failures) for batch in batches))
    return latencies, failures


def count_calls(slack_url: str, method: str) -> int:
    with urllib.request.urlopen(f"{slack_url}/_count/{method}", timeout=5) as answer:
        return json.loads(answer.read())["count"]


def answers(slack_url: str) -> int:
    """Every line gets one answer: a result in the channel or an ephemeral one to the person."""
    return sum(count_calls(slack_url, method) for method in ("chat.postMessage", "response_url", "chat.postEphemeral"))


def drained(slack_url: str, expected_posts: int, timeout_s: float = 600) -> float:
    """Wait until opsgate has answered every line; returns how long that took."""
    started = time.monotonic()
    while answers(slack_url) < expected_posts:
        if time.monotonic() - started > timeout_s:
            raise SystemExit("opsgate did not finish its work in time")
        time.sleep(0.1)
    return time.monotonic() - started


# -- the servers ----------------------------------------------------------------------------------

def spread_line_process(pid: int) -> None:
    """Let the processes `serve` started (its line process) run on every CPU, each of their
    threads (affinity is per thread; threads started later inherit it)."""
    every = set(range(os.cpu_count() or 1))
    for child in _children(pid):
        for task in Path(f"/proc/{child}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), every)
            except OSError:  # a thread that ended meanwhile
                continue


def start_bare(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), SECRET], preexec_fn=pinned(SERVER_CPU),
                            stderr=subprocess.PIPE, text=True)


def start_opsgate(port: int, data_dir: Path, slack_url: str, database_url: str | None,
                  line_process: bool) -> subprocess.Popen:
    (data_dir / "opsgate.yaml").write_text(CATALOG)
    env = {**os.environ, "OPSGATE_DATA_DIR": str(data_dir), "OPSGATE_CONFIG": str(data_dir / "opsgate.yaml"),
           "OPSGATE_SLACK_SIGNING_SECRET": SECRET, "OPSGATE_SLACK_BOT_TOKEN": "xoxb-bench",
           "OPSGATE_SLACK_API_URL": slack_url + "/api/", "OPSGATE_PORT": str(port), "OPSGATE_LOG_LEVEL": "warning",
           "OPSGATE_LINE_PROCESS": "1" if line_process else "0"}
    env.pop("OPSGATE_DATABASE_URL", None)
    if database_url:
        env["OPSGATE_DATABASE_URL"] = database_url
    return subprocess.Popen([sys.executable, "-m", "opsgate.cli", "serve"], env=env, preexec_fn=pinned(SERVER_CPU),
                            stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


# -- main -----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per concurrency level")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--soak", type=int, default=10_000, help="requests per soak round, for the memory-growth "
                                                                  "check (0: skip)")
    parser.add_argument("--soak-rounds", type=int, default=3, help="soak rounds, memory measured after each")
    parser.add_argument("--line", default="deploy status web dev", help="the /ops line opsgate runs")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    parser.add_argument("--line-cpus", choices=("server", "all"), default="server",
                        help="server: the line process stays on the serving process's CPU (the harder case); "
                             "all: it may run on every CPU, as it would unpinned in production")
    parser.add_argument("--no-line-process", action="store_true", help="run lines on threads in the serving process")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    os.sched_setaffinity(0, CLIENT_CPU)

    fake = subprocess.Popen([sys.executable, "-c", FAKE_SLACK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, preexec_fn=pinned(CLIENT_CPU))
    slack_url = fake.stdout.readline().strip()
    commands = Commands(args.line, slack_url)
    results: list[Level] = []
    idle_rss: list[float] = []
    posts_expected = 0
    data_dir = Path(tempfile.mkdtemp(prefix="opsgate-bench-"))
    try:
        for round_no in range(args.rounds):
            for app in ("bare Bolt", "opsgate"):
                port = free_port()
                server = start_bare(port) if app == "bare Bolt" else start_opsgate(port, data_dir, slack_url, args.database_url,
                                                                                             not args.no_line_process)
                try:
                    wait_ready(f"http://127.0.0.1:{port}", server)
                    if app == "opsgate":
                        time.sleep(1.0)
                        idle_rss.append(rss_mb(server.pid))
                        if args.line_cpus == "all":
                            spread_line_process(server.pid)
                    for clients in levels:
                        asyncio.run(run_level(port, commands, clients, min(200, args.requests)))  # warm-up
                        if app == "opsgate":
                            posts_expected += clients * max(1, min(200, args.requests) // clients)
                            drained(slack_url, posts_expected)
                        latencies, failures = asyncio.run(run_level(port, commands, clients, args.requests))
                        if failures:
                            raise SystemExit(f"{app}: {len(failures)} requests failed, e.g. {failures[0]}")
                        results.append(Level(app, clients, latencies))
                        if app == "opsgate":
                            posts_expected += len(latencies)
                            drained(slack_url, posts_expected)
                    if app == "opsgate" and round_no == args.rounds - 1 and args.soak:
                        soak = soak_memory(port, server.pid, commands, slack_url, posts_expected, args.soak,
                                           args.soak_rounds)
                        posts_expected = soak.pop("posts")
                finally:
                    stop(server)
    finally:
        fake.stdin.close()
        fake.wait(10)
    report(results, levels, idle_rss, soak if args.soak else None, args)


SOAK_CHUNK = 1000  # soak requests sent before waiting for their work to drain


def soak_memory(port: int, pid: int, commands: Commands, slack_url: str, posts: int, total: int,
                rounds: int) -> dict:
    """`rounds` soaks of `total` requests each (sent in chunks, each chunk's work drained before
    the next, so no backlog of thousands of lines builds up), memory measured before the first
    and after each: growth that stops after the first round is a high-water mark (caches filled,
    pages a forked child copied on write); growth in every round is a leak."""
    memory = [rss_mb(pid)]
    by_process = [pss_by_process(pid)]
    latencies, failures, drains = [], [], []
    started = time.monotonic()
    for _ in range(rounds):
        for chunk in range(0, total, SOAK_CHUNK):  # the work drains between chunks: no backlog builds up
            done, failed = asyncio.run(run_level(port, commands, 10, min(SOAK_CHUNK, total - chunk)))
            latencies += done
            failures += failed
            posts += len(done)
            drains.append(drained(slack_url, posts))
        time.sleep(1.0)
        memory.append(rss_mb(pid))
        by_process.append(pss_by_process(pid))
    return {"memory": memory, "by_process": by_process, "requests": len(latencies), "failures": len(failures),
            "seconds": time.monotonic() - started, "drain_s": max(drains), "posts": posts, "per_round": total,
            "p99": sorted(latencies)[int(0.99 * len(latencies))]}


def pss_by_process(pid: int) -> dict[str, float]:
    """PSS of `serve` itself and of each process it started, by name (MB)."""
    found = {"serve": _field_kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") / 1024}
    for child in _children(pid):
        try:
            name = Path(f"/proc/{child}/comm").read_text().strip()
            found[name] = found.get(name, 0.0) + _field_kb(Path(f"/proc/{child}/smaps_rollup"), "Pss:") / 1024
        except OSError:
            continue
    return found


def report(results: list[Level], levels: list[int], idle_rss: list[float], soak: dict | None, args) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
                  f"{args.requests} requests per level, {args.rounds} rounds, opsgate runs `/ops {args.line}`")
    table = Table(title="Time to the HTTP ack of a signed slash command (ms)")
    for column in ("app", "clients", "round", "p50", "p99", "max", "acks/s"):
        table.add_column(column, justify="right" if column != "app" else "left")
    rounds: dict[tuple[str, int], int] = {}
    for level in results:
        rounds[(level.app, level.clients)] = rounds.get((level.app, level.clients), 0) + 1
        per_s = len(level.latencies_ms) / (sum(level.latencies_ms) / 1000 / level.clients)
        table.add_row(level.app, str(level.clients), str(rounds[(level.app, level.clients)]), f"{level.pct(0.50):.2f}",
                      f"{level.pct(0.99):.2f}", f"{max(level.latencies_ms):.1f}", f"{per_s:,.0f}")
    console.print(table)
    summary = Table(title="opsgate against the bare app (p99, best round of each)")
    for column in ("clients", "bare p99", "opsgate p99", "ratio", "target"):
        summary.add_column(column, justify="right")
    for clients in levels:
        bare = min(level.pct(0.99) for level in results if level.app == "bare Bolt" and level.clients == clients)
        ours = min(level.pct(0.99) for level in results if level.app == "opsgate" and level.clients == clients)
        target = "<= 1.5x" + (", < 100 ms" if clients == 50 else "")
        ok = ours <= 1.5 * bare and (clients != 50 or ours < 100)
        summary.add_row(str(clients), f"{bare:.2f}", f"{ours:.2f}", f"{ours / bare:.2f}x", f"{target} {'met' if ok else 'MISSED'}")
    console.print(summary)
    console.print(f"opsgate serve idle memory (PSS of serve and its processes): {', '.join(f'{m:.0f} MB' for m in idle_rss)} (target <= 150 MB)")
    if soak:
        memory = soak["memory"]
        steps = ", ".join(f"{after:.0f} ({after - before:+.1f})" for before, after in zip(memory, memory[1:]))
        console.print(f"Soak: {len(memory) - 1} rounds of {soak['per_round']:,} requests at 10 clients in "
                      f"{soak['seconds']:.0f} s, in chunks of {SOAK_CHUNK:,} ({soak['failures']} failed, ack p99 "
                      f"{soak['p99']:.1f} ms, a chunk's work drained at most {soak['drain_s']:.1f} s after its last ack); memory (PSS of serve and its processes) "
                      f"{memory[0]:.0f} MB before, after each round: {steps} MB")
        for name in soak["by_process"][0]:
            console.print(f"  {name}: " + " → ".join(f"{sizes.get(name, 0.0):.0f}" for sizes in soak["by_process"]) + " MB")


if __name__ == "__main__":
    main()
