"""The whole schema: every table module registers its tables on the one `metadata`.

Migrations and the schema test read `metadata` from here, so a table module that is not imported
here is a table the migrations test cannot see. One module per concept keeps each small.
"""

from __future__ import annotations

from opsgate.adapters.store import tables  # noqa: F401  (requests, approvals, audit, locks, outbox)
from opsgate.adapters.store import tables_alerts  # noqa: F401  (alert groups, silences, deployments, counters)
from opsgate.adapters.store import tables_events  # noqa: F401  (received events)
from opsgate.adapters.store import tables_incidents  # noqa: F401  (incidents, roles, timelines)
from opsgate.adapters.store import tables_schedules  # noqa: F401  (leases, scheduled checks, reminders)
from opsgate.adapters.store.tables import metadata

__all__ = ["metadata"]
