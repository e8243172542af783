"""The SQL store: SQLAlchemy Core tables, Alembic migrations, and the Store port on SQLite or PostgreSQL."""

from opsgate.adapters.store.errors import map_db_errors
from opsgate.adapters.store.sql_store import (
    SqlStore,
    SqlTransaction,
    create_engine_for,
    migration_status,
    open_store,
    upgrade,
)

__all__ = [
    "SqlStore",
    "SqlTransaction",
    "create_engine_for",
    "map_db_errors",
    "migration_status",
    "open_store",
    "upgrade",
]
