"""The whole schema: every table module registers its tables on the one `metadata`.

Migrations and the schema test read `metadata` from here, so a table module that is not imported
here is a table the migrations test cannot see. One module per concept keeps each small.
"""

from __future__ import annotations

from opsgate.adapters.store import tables  # noqa: F401  (requests, approvals, audit, locks, outbox)
from opsgate.adapters.store.tables import metadata

__all__ = ["metadata"]
