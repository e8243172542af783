"""Audit log throughput: single-record appends per second and verification of a long chain.

    .venv/bin/python bench/audit.py [--appends 5000] [--records 1000000] [--postgres-url URL]

SQLite always runs (in a temporary folder); PostgreSQL runs when --postgres-url or
OPSGATE_TEST_POSTGRES_URL names a server, in a database this script creates and drops.
Targets: >= 2,000 appends/s on SQLite; 1,000,000 records verified in <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from opsgate.adapters.store import SqlStore, open_store
from opsgate.adapters.store.audit_chain import audit_row
from opsgate.adapters.store.tables import AUDIT_HEAD_ID, audit_head, audit_log
from opsgate.domain.audit import GENESIS_HASH, AuditEntry, seal

APPENDS_PER_S_TARGET = 2_000
VERIFY_S_TARGET = 5.0
LOAD_BATCH = 10_000
T0 = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)

NewDatabase = Callable[[], AbstractContextManager[str]]  # yields the URL of an empty database


@dataclass
class Result:
    database: str
    appends: int = 0
    appends_per_s: float = 0.0
    records: int = 0
    load_s: float = 0.0
    verify_s: float = 0.0
    skipped: str = ""


def sample_entry(i: int) -> AuditEntry:
    """Records of realistic size: decisions, approvals and outcomes by a few dozen people."""
    kinds = ("request.decided", "approval.granted", "execution.succeeded", "execution.failed")
    return AuditEntry(
        event=kinds[i % 4],
        actor_platform="slack",
        actor_id=f"U0{i % 37:07d}",
        actor_name=f"person {i % 37}",
        person_id=f"person{i % 37}",
        request_id=f"r-{i // 4:08d}",
        command=("deploy", "restart", "scale")[i % 3],
        params={"service": f"svc-{i % 11}", "version": f"1.{i % 50}.0"},
        environment=("staging", "prod")[i % 2],
        decision="approve" if i % 4 == 0 else None,
        rule="approval.protected-env" if i % 4 == 0 else None,
        outcome=("succeeded", "failed")[i % 2] if i % 4 >= 2 else None,
        correlation={"aws_request_id": f"{i:032x}"} if i % 4 >= 2 else {},
    )


def measure_appends(store: SqlStore, count: int) -> float:
    """Appends per second, each in its own transaction, as the dispatcher writes them."""
    started = time.perf_counter()
    for i in range(count):
        with store.transaction() as tx:
            tx.append_audit(sample_entry(i), T0 + timedelta(milliseconds=i))
    return count / (time.perf_counter() - started)


def bulk_load(store: SqlStore, count: int) -> None:
    """Write `count` sealed records straight into the table (executemany), then set the head."""
    prev_hash = GENESIS_HASH
    for start in range(1, count + 1, LOAD_BATCH):
        rows = []
        for seq in range(start, min(start + LOAD_BATCH, count + 1)):
            record = seal(sample_entry(seq), seq, T0 + timedelta(milliseconds=seq), prev_hash)
            rows.append(audit_row(record))
            prev_hash = record.hash
        with store.engine.begin() as conn:
            conn.execute(audit_log.insert(), rows)
    with store.engine.begin() as conn:
        move_head = audit_head.update().where(audit_head.c.id == AUDIT_HEAD_ID)
        conn.execute(move_head.values(seq=count, hash=prev_hash))


def measure_verify(store: SqlStore, count: int) -> float:
    started = time.perf_counter()
    result = store.verify_audit()
    elapsed = time.perf_counter() - started
    if not result.ok or result.checked != count:
        raise SystemExit(f"verification failed: {result}")
    return elapsed


def run(database: str, new_database: NewDatabase, appends: int, records: int) -> Result:
    result = Result(database, appends=appends, records=records)
    with new_database() as url:
        store = open_store(url)
        try:
            result.appends_per_s = measure_appends(store, appends)
        finally:
            store.close()
    with new_database() as url:
        store = open_store(url)
        try:
            started = time.perf_counter()
            bulk_load(store, records)
            result.load_s = time.perf_counter() - started
            result.verify_s = measure_verify(store, records)
        finally:
            store.close()
    return result


def sqlite_databases(folder: Path) -> NewDatabase:
    @contextmanager
    def new_database() -> Iterator[str]:
        path = folder / f"bench-{secrets.token_hex(4)}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    return new_database


def postgres_databases(admin_url: str) -> NewDatabase:
    @contextmanager
    def new_database() -> Iterator[str]:
        name = "opsgate_bench_" + secrets.token_hex(4)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()

    return new_database


def render(results: list[Result], console: Console) -> None:
    table = Table(title="Audit log")
    headers = ("Database", "Appends", "Appends/s", "Records", "Bulk load (s)", "Verify (s)", "Verified/s")
    for header in headers:
        table.add_column(header, justify="left" if header == "Database" else "right")
    for r in results:
        if r.skipped:
            continue
        table.add_row(
            r.database,
            f"{r.appends:,}",
            f"{r.appends_per_s:,.0f}",
            f"{r.records:,}",
            f"{r.load_s:.1f}",
            f"{r.verify_s:.2f}",
            f"{r.records / r.verify_s:,.0f}",
        )
    console.print(table)
    for r in results:
        if r.skipped:
            console.print(f"{r.database} skipped: {r.skipped}")
    console.print(
        f"Targets: >= {APPENDS_PER_S_TARGET:,} appends/s on SQLite, each append its own transaction; "
        f"1,000,000 records verified in <= {VERIFY_S_TARGET:.0f} s (bulk load not included)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=5_000, help="single-record append transactions")
    parser.add_argument("--records", type=int, default=1_000_000, help="records to load and verify")
    parser.add_argument("--postgres-url", default=os.environ.get("OPSGATE_TEST_POSTGRES_URL"))
    args = parser.parse_args()

    console = Console(width=120)
    console.print(
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sa.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="opsgate-bench-") as folder:
        results = [run("SQLite (WAL)", sqlite_databases(Path(folder)), args.appends, args.records)]
    if args.postgres_url:
        results.append(run("PostgreSQL", postgres_databases(args.postgres_url), args.appends, args.records))
    else:
        results.append(Result("PostgreSQL", skipped="no --postgres-url or OPSGATE_TEST_POSTGRES_URL"))
    render(results, console)


if __name__ == "__main__":
    main()
