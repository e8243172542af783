"""The Directory port from Slack user groups: which groups (S… ids) a user is in.

One `usergroups.list(include_users=true)` call reads every enabled group with its members; the
answer is cached for `ttl_s`. If Slack does not answer, the last answer is used for at most
`stale_s` more, then groups count as empty: roles from groups are denied rather than granted on
old news. Membership is by immutable user id only.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient

from opsgate.adapters.chat.slack.errors import SlackSendError, map_slack_errors
from opsgate.ports import Clock

log = logging.getLogger("opsgate.slack.directory")

RETRY_AFTER_FAILURE_S = 30.0


class SlackDirectory:
    def __init__(self, client: WebClient, clock: Clock, *, ttl_s: float = 300.0, stale_s: float = 900.0) -> None:
        self.client = client
        self.clock = clock
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self._groups_of: dict[str, frozenset[str]] = {}  # user id → group ids
        self._read_at: datetime | None = None  # when Slack last answered
        self._next_read: datetime | None = None
        self._lock = threading.Lock()

    def group_ids(self, platform: str, user_id: str) -> frozenset[str]:
        if platform != "slack":
            return frozenset()
        with self._lock:  # one read at a time; callers meanwhile wait for its answer
            now = self.clock.now()
            if self._next_read is None or now >= self._next_read:
                self._read(now)
            if self._read_at is None or now - self._read_at > timedelta(seconds=self.ttl_s + self.stale_s):
                return frozenset()
            return self._groups_of.get(user_id, frozenset())

    def _read(self, now: datetime) -> None:
        try:
            with map_slack_errors("usergroups.list"):
                answer = self.client.usergroups_list(include_users=True)
        except SlackSendError as err:
            log.warning("could not read Slack user groups", extra={"error": err.error})
            self._next_read = now + timedelta(seconds=min(RETRY_AFTER_FAILURE_S, self.ttl_s or RETRY_AFTER_FAILURE_S))
            return
        groups_of: dict[str, set[str]] = {}
        for group in answer.get("usergroups") or ():
            for user in group.get("users") or ():
                groups_of.setdefault(user, set()).add(group["id"])
        self._groups_of = {user: frozenset(groups) for user, groups in groups_of.items()}
        self._read_at = now
        self._next_read = now + timedelta(seconds=self.ttl_s)
