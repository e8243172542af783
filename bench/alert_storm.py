"""An alert storm against the real `opsgate serve`: signed SNS alarm notifications in, grouped Slack
messages out.

    .venv/bin/python bench/alert_storm.py [--notifications 10000] [--alarms 500] [--groups 20]
                                          [--senders 8] [--group-interval 5] [--workers 1] [--intake-only]
                                          [--postgres-url URL]

`opsgate serve` runs as it would in production (uvicorn on 127.0.0.1, its line process running the
background jobs), with a catalog whose intake accepts one SNS topic and whose notifications group
alarms by load balancer: 500 alarms behind 20 load balancers are 20 groups, routed to 4 channels.
The signing certificate is served over HTTPS by a local server with its own CA (as SNS serves
its own); every notification is signed (SignatureVersion 1) before the clock starts. 8 senders,
each on one keep-alive connection, POST the notifications to /events/sns as fast as they are
answered; every alarm goes ALARM, ALARM, ALARM, OK, ... A local Slack Web API records every call.

Reported: events/s end to end (first notification sent → every event processed by the pipeline,
read from the store), the intake's p50/p99 latency (send → 200), chat calls made, and chat calls
per group per group interval (a group's calls over the group intervals from its first call to its
last; and the busiest interval-long window). The pipeline's own rate is measured apart too (events
stored straight into a database, then processed), to show which stage sets the end-to-end rate,
and the CPU time per event of `serve` and of the processes it started (Linux /proc).
`--intake-only` serves without background jobs: what the intake alone takes.
Targets: >= 1,000 events/s; <= 2 chat calls per group per group interval.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from opsgate.adapters.chat.slack.testing import LocalSlackApi
from opsgate.adapters.intake.testing import CERT_PATH, TOPIC, CertServer, Pki, alarm_message, body, pem, signed_envelope
from opsgate.adapters.store import create_engine_for
from slack_ack import descendants, free_port, one_client, wait_ready  # this folder's: the same start-up and client

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
CHANNELS = ("C0STORM1", "C0STORM2", "C0STORM3", "C0STORM4")


def catalog(groups: int, group_interval_s: int) -> str:
    per_channel = -(-groups // len(CHANNELS))  # load balancers per channel
    routes = "".join(
        f"    - {{name: lb-{n:02d}, match: ['resource=app/lb-{n:02d}/*'], channels: [{CHANNELS[n // per_channel]}]}}\n"
        for n in range(groups))
    return f"""
version: 1
environments:
  - {{name: prod, account: "222222222222", region: eu-west-1}}
intake:
  sns:
    topics: ["{TOPIC}"]
notifications:
  default_channel: C0STORM1
  grouping:
    group_by: [resource]
    group_wait: 2s
    group_interval: {group_interval_s}s
    repeat_interval: 1h
  routes:
{routes}"""


@dataclass
class Result:
    sent: int
    refused: int
    send_s: float
    processed_s: float
    latencies_ms: list[float]
    calls: dict[str, int]
    group_rates: list[float]
    group_windows: list[int]
    processing_alone: float
    cpu_s: dict[str, float]  # CPU seconds while sending and processing: "serve", "children"

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def signed_storm(pki: Pki, cert_url: str, notifications: int, alarms: int, groups: int) -> list[bytes]:
    now = datetime.now(timezone.utc)
    out = []
    for n in range(notifications):
        alarm, round_ = n % alarms, n // alarms
        state = "OK" if round_ % 4 == 3 else "ALARM"
        at = now + timedelta(milliseconds=n)
        message = alarm_message(f"storm-{alarm:03d}", state, at=at, load_balancer=f"lb-{alarm % groups:02d}",
                                description="severity=high")
        envelope = signed_envelope(pki.signing_key, cert_url, message=message, message_id=f"storm-{n:06d}",
                                   timestamp=now, subject=f"{state}: storm-{alarm:03d}")
        out.append(body(envelope))
        if n and n % 2000 == 0:
            print(f"  signed {n}", flush=True)
    return out


def sns_request(port: int, data: bytes) -> bytes:
    return (f"POST /events/sns HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            f"x-amz-sns-message-type: Notification\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


async def send_all(port: int, bodies: list[bytes], senders: int) -> tuple[list[float], list[str]]:
    """Each sender is one keep-alive connection written by hand (slack_ack's client): a light
    client, so that the machine's time goes to the server (httpx costs about 1 ms per request)."""
    latencies: list[float] = []
    refused: list[str] = []
    requests = [sns_request(port, data) for data in bodies]
    await asyncio.gather(*(one_client(port, requests[i::senders], latencies, refused) for i in range(senders)))
    return latencies, refused


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc; clock ticks → seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_role(pid: int) -> dict[str, float]:
    """CPU seconds of `serve` and of the processes it started (its line process, or with
    --workers the serving workers, each with its own line process)."""
    total = 0.0
    for child in descendants(pid):
        try:
            total += cpu_seconds(child)
        except OSError:  # gone meanwhile
            continue
    return {"serve": cpu_seconds(pid), "children": total}


def processed(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM events WHERE processed_at IS NOT NULL")).scalar_one()


def quiet(api: LocalSlackApi, engine: sa.Engine, settle_s: float) -> None:
    """Until the outbox is empty and no chat call came for `settle_s` (group timers may still run)."""
    last, last_change = -1, time.monotonic()
    while True:
        with engine.connect() as conn:
            pending = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE state = 'pending'")).scalar_one()
        count = len(api.calls)
        if count != last:
            last, last_change = count, time.monotonic()
        if pending == 0 and time.monotonic() - last_change > settle_s:
            return
        time.sleep(0.2)


def calls_per_group_interval(api: LocalSlackApi, stamps: dict[int, float], interval_s: float) -> tuple[list[float], list[int]]:
    """Each post/update is its group's (the group's message ts, or the thread it replies in).
    Per group: (calls ÷ group intervals from its first call to its last), and the calls that arrived
    in each interval-long window since its first call (pacing can push a flush's second call into
    the next window, so that count may exceed what one flush sends)."""
    by_group: dict[str, list[float]] = collections.defaultdict(list)
    for index, call in enumerate(api.calls):
        if call.method not in ("chat.postMessage", "chat.update"):
            continue
        group = call.args.get("thread_ts") or call.args.get("ts") or call.answer.get("ts")
        by_group[group].append(stamps[index])
    rates, windows = [], []
    for times in by_group.values():
        first, last = min(times), max(times)
        rates.append(len(times) / (int((last - first) // interval_s) + 1))
        windows += list(collections.Counter(int((t - first) // interval_s) for t in times).values())
    return rates, windows


def processing_alone(notifications: int, alarms: int, groups: int, interval_s: int) -> float:
    """Events/s of the pipeline by itself: events stored straight into a fresh SQLite database,
    then one processor (the background job's code) takes them all; no HTTP, no chat."""
    from opsgate.adapters.chat.slack.chat import SlackChat
    from opsgate.adapters.store import open_store
    from opsgate.clock import SystemClock
    from opsgate.config import load_catalog_text
    from opsgate.core.notifications.pipeline import EventProcessor, NotificationPipeline

    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/alone.db")
        now = datetime.now(timezone.utc)
        with store.transaction() as tx:
            for n in range(notifications):
                alarm, round_ = n % alarms, n // alarms
                state = "OK" if round_ % 4 == 3 else "ALARM"
                message = alarm_message(f"storm-{alarm:03d}", state, at=now + timedelta(milliseconds=n),
                                        load_balancer=f"lb-{alarm % groups:02d}", description="severity=high")
                tx.event_add("sns", f"storm-{n:06d}", {"Type": "Notification", "MessageId": f"storm-{n:06d}",
                                                       "TopicArn": TOPIC, "Message": message,
                                                       "Timestamp": now.isoformat()}, now)
        clock = SystemClock()
        pipeline = NotificationPipeline(load_catalog_text(catalog(groups, interval_s)), SlackChat(store, clock),
                                        default_channel=CHANNELS[0])
        processor = EventProcessor(store, pipeline, clock, max_batches=notifications)
        started = time.perf_counter()
        done = processor.process_due()
        elapsed = time.perf_counter() - started
        store.close()
    return done / elapsed


class StampedApi(LocalSlackApi):
    """The local Slack Web API, noting when each call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: dict[int, float] = {}
        original = self._answer

        def answer(handler, data):  # noqa: ANN001
            original(handler, data)
            with self._lock:
                self.stamps.setdefault(len(self.calls) - 1, time.monotonic())

        self._answer = answer  # type: ignore[method-assign]


def run(args: argparse.Namespace) -> Result:
    pki = Pki.create()
    certs = CertServer(pki, routes={CERT_PATH: pem(pki.signing_cert)}).start()
    api = StampedApi().start()
    print(f"signing {args.notifications} notifications...", flush=True)
    bodies = signed_storm(pki, certs.url(), args.notifications, args.alarms, args.groups)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        (data / "opsgate.yaml").write_text(catalog(args.groups, args.group_interval))
        (data / "ca.pem").write_bytes(pem(pki.ca))
        database_url = args.postgres_url or f"sqlite:///{data / 'opsgate.db'}"
        port = free_port()
        env = {**os.environ, "OPSGATE_DATA_DIR": str(data), "OPSGATE_CONFIG": str(data / "opsgate.yaml"),
               "OPSGATE_DATABASE_URL": database_url, "OPSGATE_SLACK_SIGNING_SECRET": SECRET,
               "OPSGATE_SLACK_BOT_TOKEN": "xoxb-bench", "OPSGATE_SLACK_API_URL": api.base_url,
               "OPSGATE_PORT": str(port), "OPSGATE_LOG_LEVEL": "warning",
               "OPSGATE_SNS_CERT_HOST_PATTERN": r"127\.0\.0\.1:\d+", "OPSGATE_SNS_CA_FILE": str(data / "ca.pem"),
               "OPSGATE_WORKERS": str(args.workers), "OPSGATE_SERVE_JOBS": "0" if args.intake_only else "1"}
        server = subprocess.Popen([sys.executable, "-m", "opsgate.cli", "serve"], env=env, stderr=subprocess.PIPE,
                                  text=True, cwd=ROOT)
        engine = create_engine_for(database_url)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, server)
            print(f"sending from {args.senders} senders...", flush=True)
            cpu_before = cpu_by_role(server.pid)
            started = time.monotonic()
            latencies, refused = asyncio.run(send_all(port, bodies, args.senders))
            send_s = time.monotonic() - started
            while not args.intake_only and processed(engine) < len(bodies) - len(refused):
                if time.monotonic() - started > 600:
                    raise SystemExit("the events were not processed within 10 minutes")
                time.sleep(0.05)
            processed_s = time.monotonic() - started
            cpu_after = cpu_by_role(server.pid)
            cpu_s = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
            if not args.intake_only:
                print("waiting for the groups' messages to settle...", flush=True)
                quiet(api, engine, settle_s=args.group_interval * 2 + 3)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
            engine.dispose()
    certs.stop()
    api.stop()
    calls = collections.Counter(c.method for c in api.calls)
    rates, windows = calls_per_group_interval(api, api.stamps, args.group_interval)
    print("measuring the pipeline alone...", flush=True)
    alone = processing_alone(args.notifications, args.alarms, args.groups, args.group_interval)
    return Result(len(bodies), len(refused), send_s, processed_s, latencies, dict(calls), rates, windows, alone,
                  cpu_s)


def report(result: Result, args: argparse.Namespace) -> None:
    posts, updates = result.calls.get("chat.postMessage", 0), result.calls.get("chat.update", 0)
    end_to_end = (result.sent - result.refused) / result.processed_s
    worst_rate = max(result.group_rates, default=0.0)
    database = "PostgreSQL" if args.postgres_url else "SQLite (WAL)"
    print(f"\nMachine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; {database}; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"{args.notifications:,} notifications, {args.alarms} alarms, {args.groups} groups, "
          f"{args.senders} senders, group interval {args.group_interval} s, {args.workers} serve process(es)\n")
    rows = [
        ("notifications accepted (200) / refused", f"{result.sent - result.refused:,} / {result.refused:,}"),
        ("intake rate (sent / send time)", f"{result.sent / result.send_s:,.0f}/s"),
        ("events/s end to end (received → processed)", "(intake only)" if args.intake_only else f"{end_to_end:,.0f}/s"),
        ("pipeline alone (stored → processed)", f"{result.processing_alone:,.0f}/s"),
        ("intake latency p50 / p99", f"{result.pct(0.50):.1f} / {result.pct(0.99):.1f} ms"),
        ("CPU per event: serve / its children",
         " / ".join(f"{result.cpu_s.get(role, 0.0) * 1000 / max(1, result.sent):.2f}" for role in ("serve", "children"))
         + " ms"),
        ("chat calls: chat.postMessage / chat.update", f"{posts} / {updates}"),
        ("group messages (one per group incarnation)", f"{len(result.group_rates)}"),
        ("chat calls per group per interval (worst group)", f"{worst_rate:.2f}"),
        ("busiest interval-long window of one group", f"{max(result.group_windows, default=0)} calls"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'metric':<{width}} | {'value':>18} |")
    print(f"|{'-' * (width + 2)}|{'-' * 19}:|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:>18} |")
    if args.intake_only:
        print("\nIntake only: nothing was processed, so the targets are not judged.")
        return
    ok = end_to_end >= 1000 and worst_rate <= 2
    print(f"\nTargets (>= 1,000 events/s end to end; <= 2 chat calls per group per interval): "
          f"{'met' if ok else 'NOT met'} (events/s {'met' if end_to_end >= 1000 else 'NOT met'}, "
          f"chat calls {'met' if worst_rate <= 2 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--alarms", type=int, default=500)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--group-interval", type=int, default=5, help="seconds")
    parser.add_argument("--workers", type=int, default=1, help="`serve` processes (OPSGATE_WORKERS)")
    parser.add_argument("--intake-only", action="store_true",
                        help="serve without background jobs (OPSGATE_SERVE_JOBS=0): what intake alone takes")
    parser.add_argument("--postgres-url", help="run on this PostgreSQL database (a new, empty one) instead of SQLite")
    args = parser.parse_args()
    report(run(args), args)


if __name__ == "__main__":
    main()
