"""Slack: Bolt for Python at the edge, opsgate's dispatcher behind it.

  inbound    payload → Inbound + where to answer      blocks     Message/Reply → Block Kit
  modals     forms for a deny reason, a typed confirmation, a missing link
  runner     after the ack: the line in a thread pool, the answer back
  chat       the Chat port → the durable outbox       delivery   outbox → Web API (429, in place)
  directory  user groups → roles (TTL cache)          verify     signatures, timestamps
  endpoint   POST /slack/events                       app        the Bolt listeners
  pump       the delivery thread                      socket_mode, manifest
"""
