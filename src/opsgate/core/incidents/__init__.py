"""Incidents: declare, work and resolve them in chat; their timelines; the postmortem draft.

Other parts add to an incident's timeline with `opsgate.core.incidents.timeline.record_timeline`.
"""
