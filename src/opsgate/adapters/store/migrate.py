"""Alembic, configured in code: no alembic.ini is needed to upgrade a database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from opsgate.adapters.store.engine import create_engine_for, snapshot_options
from opsgate.adapters.store.errors import map_db_errors

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Advisory lock key: any constant works, as long as every opsgate process uses the same one.
_POSTGRES_MIGRATION_LOCK = int.from_bytes(b"opsgate", "big")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url_or_engine: str | Engine) -> None:
    """Bring the schema to the newest revision, in one transaction; a no-op when it is there.

    Replicas starting together queue for the migration (BEGIN IMMEDIATE on SQLite, an advisory
    lock on PostgreSQL), so the second one finds the work done.
    """
    engine, owned = _engine(url_or_engine)
    try:
        with map_db_errors(), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_POSTGRES_MIGRATION_LOCK)))
            command.upgrade(alembic_config(conn), "head")
    finally:
        if owned:
            engine.dispose()


def migration_status(engine: Engine) -> tuple[str | None, str | None]:
    """(revision the database is at, newest revision this code has); None for an empty database."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with map_db_errors(), engine.connect() as conn:
        conn.execution_options(**snapshot_options(engine))
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def _engine(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        return url_or_engine, False
    return create_engine_for(url_or_engine), True
