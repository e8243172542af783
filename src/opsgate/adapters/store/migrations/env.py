"""Alembic environment for opsgate. Run migrations through `opsgate.adapters.store.upgrade()`,
which configures Alembic in code and hands over an open connection in `config.attributes`."""

from __future__ import annotations

from alembic import context

from opsgate.adapters.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "opsgate migrations need a connection: call opsgate.adapters.store.upgrade(url) "
        "(offline SQL generation is not supported)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # The engine's SQLite recipe makes DDL transactional there too: a failed upgrade leaves nothing.
    transactional_ddl=True,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
