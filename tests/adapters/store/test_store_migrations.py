"""Alembic migrations: a fresh database reaches the head, upgrading again changes nothing, and the
migrated schema is exactly the one tables.py describes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_samples import append_records, run_together

from opsgate.adapters.store import create_engine_for, migration_status, open_store, upgrade
from opsgate.adapters.store.migrate import MIGRATIONS_DIR, alembic_config
from opsgate.adapters.store.schema import metadata
from opsgate.errors import StoreError

TABLES = {"requests", "approvals", "audit_log", "audit_head", "locks", "inbound", "outbox", "message_refs", "events", "leases", "check_states", "reminders",
          "alert_groups", "group_alerts", "alert_acks", "silences", "deployments", "notification_counters",
          "incidents", "incident_roles", "incident_timeline", "incident_alert_groups"}
HEAD = "0008"


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def test_a_fresh_database_is_upgraded_to_the_head(engine):
    assert migration_status(engine) == (None, HEAD)
    upgrade(engine)
    assert migration_status(engine) == (HEAD, HEAD)
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def test_a_second_upgrade_is_a_no_op(database_url):
    store = open_store(database_url)
    append_records(store, 3)
    upgrade(database_url)
    upgrade(store.engine)
    assert migration_status(store.engine) == (HEAD, HEAD)
    assert store.verify_audit().checked == 3
    store.close()


def test_the_migrated_schema_matches_the_tables(engine):
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_replicas_upgrading_at_once_both_succeed(engine, database_url):
    results = run_together(2, lambda _: upgrade(database_url))
    assert results == [None, None]
    assert migration_status(engine) == (HEAD, HEAD)


def test_downgrade_removes_everything_and_upgrade_restores_it(engine):
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def test_opening_without_migrating_refuses_an_old_schema(database_url):
    with pytest.raises(StoreError, match="schema is at revision none, this opsgate needs " + HEAD):
        open_store(database_url, migrate=False)
    upgrade(database_url)
    open_store(database_url, migrate=False).close()


def test_the_migration_script_template_ships_beside_the_migrations():
    # Needed by `alembic revision`; pyproject's package-data must list it for wheel installs.
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()
