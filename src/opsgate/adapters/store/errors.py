"""Database exceptions become opsgate's StoreError here, at the adapter's edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.util import CommandError
from sqlalchemy import exc as sa_exc

from opsgate.errors import StoreError

# Most specific first: the first matching class decides the message's prefix.
_PREFIXES: tuple[tuple[type[Exception], str], ...] = (
    (sa_exc.OperationalError, "database unavailable"),  # refused, locked too long, disk full
    (sa_exc.IntegrityError, "database refused the write"),
    (sa_exc.DBAPIError, "database error"),
    (sa_exc.SQLAlchemyError, "database access failed"),
    (CommandError, "database migration failed"),
)
_TRANSLATED = tuple(cls for cls, _ in _PREFIXES)


@contextmanager
def map_db_errors() -> Iterator[None]:
    """Translate SQLAlchemy, driver and Alembic errors into StoreError with a one-line message.

    opsgate's own errors (ConflictError included) pass through unchanged.
    """
    try:
        yield
    except _TRANSLATED as exc:
        prefix = next(text for cls, text in _PREFIXES if isinstance(exc, cls))
        raise StoreError(f"{prefix}: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    # A DBAPIError's own str() appends the SQL and parameters; the driver's message is enough.
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
