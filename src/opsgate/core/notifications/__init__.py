"""Notifications: normalise raw AWS events, then group alerts the way Alertmanager does.

The pipeline the wiring step assembles: intake → normalise → route → silence → group → deliver.
This package holds the pure stages; adapters (intake, chat) and the store do the I/O.
"""

from opsgate.core.notifications.environments import EnvironmentIndex
from opsgate.core.notifications.fields import EventError
from opsgate.core.notifications.grouping import Flush, Grouper, GroupingRule
from opsgate.core.notifications.normalise import EVENTBRIDGE_NORMALISERS, normalise

__all__ = ["EVENTBRIDGE_NORMALISERS", "EnvironmentIndex", "EventError", "Flush", "Grouper", "GroupingRule",
           "normalise"]
