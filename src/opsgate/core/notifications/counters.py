"""Names of the hourly notification counters (`Transaction.notification_counts`), for `/ops stats`."""

from __future__ import annotations

EVENTS = "events_processed"  # stored events taken through the pipeline
ERRORS = "events_malformed"  # claimed a known shape but broke it (shown as a generic card too)
GENERIC = "events_generic"  # no normaliser knew them: shown as generic cards
ALERTS_FIRED = "alerts_fired"  # an alert started firing (new, or again after resolving)
ALERTS_RESOLVED = "alerts_resolved"
NOTICES = "notices"  # one-off info alerts (health notices, budgets, generic cards)
SILENCED = "alerts_silenced"  # kept from chat by a silence
STALE = "alerts_stale"  # an older state delivered after a newer one: ignored
DEPLOYMENTS = "deployments_finished"
MESSAGES_POSTED = "messages_posted"  # new chat messages (a group's first, a deployment summary)
MESSAGES_UPDATED = "messages_updated"  # a message changed in place
THREAD_REPLIES = "thread_replies"  # details and reminders in a group's thread
ACKS = "alerts_acknowledged"
