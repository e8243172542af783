"""Engine set-up and error translation at the adapter's edge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from store_samples import T0, append_records, make_entry

from opsgate.adapters.store import create_engine_for, map_db_errors, open_store
from opsgate.errors import ConflictError, StoreError


def test_sqlite_connections_use_wal_and_wait_for_writers(sqlite_url):
    engine = create_engine_for(sqlite_url)
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    with engine.connect() as conn:
        pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
    engine.dispose()
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 10_000, "foreign_keys": 1}


def test_sqlite_folder_is_created_when_missing(tmp_path):
    path = tmp_path / "state" / "nested" / "opsgate.db"
    open_store(f"sqlite:///{path}").close()
    assert path.is_file()


def test_a_plain_postgresql_url_uses_psycopg():
    assert create_engine_for("postgresql://u@127.0.0.1/db").dialect.driver == "psycopg"


def test_an_unsupported_database_is_refused():
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_engine_for("mysql://u@127.0.0.1/db")


def test_an_unreachable_database_is_a_one_line_store_error():
    store_engine = create_engine_for("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreError, match="^database unavailable: ") as raised:
        with map_db_errors(), store_engine.connect():
            pass
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


def test_conflicts_pass_through_unchanged():
    conflict = ConflictError("someone else was first")
    with pytest.raises(ConflictError) as raised:
        with map_db_errors():
            raise conflict
    assert raised.value is conflict


def test_reading_the_audit_log_does_not_hold_up_appends(store):
    append_records(store, 3)
    records = store.iter_audit()
    assert next(records).seq == 1  # the read transaction is open from here
    with store.transaction() as tx:
        assert tx.append_audit(make_entry(4), T0).seq == 4
    assert [r.seq for r in records] == [2, 3]  # the reader keeps its snapshot
