"""Engines configured for opsgate's two databases.

SQLite: WAL, every write transaction begins with BEGIN IMMEDIATE so that concurrent writers queue
on the busy timeout instead of failing with "database is locked" when a reader upgrades to a writer.
PostgreSQL: psycopg 3, READ COMMITTED; correctness comes from row locks and conditional updates.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000

# Execution option naming the SQLite BEGIN mode for one connection; reads that must not block
# writers use a deferred BEGIN (in WAL mode it still reads one consistent snapshot).
SQLITE_BEGIN_OPTION = "opsgate_sqlite_begin"


def create_engine_for(url: str | URL) -> Engine:
    """An engine for a `sqlite:///path` or `postgresql+psycopg://...` URL, set up for opsgate."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver opsgate ships with
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return sa.create_engine(parsed, isolation_level="READ COMMITTED", pool_pre_ping=True)
    raise ValueError(f"unsupported database URL {parsed!r}: use sqlite:///path or postgresql+psycopg://...")


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Stop pysqlite from issuing its own (deferred) BEGIN; `_begin_sqlite_transaction` does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so).

    Two connections opening a new file at once race for the switch, and SQLite answers the loser
    "locked" at once instead of waiting on the busy timeout; the loser retries and finds it done.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):  # memory: no file
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_sqlite_transaction(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def snapshot_options(engine: Engine) -> dict[str, Any]:
    """Execution options for a read-only transaction that sees one consistent snapshot."""
    if engine.dialect.name == "sqlite":
        return {SQLITE_BEGIN_OPTION: "DEFERRED"}
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
